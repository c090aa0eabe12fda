// `provision snapshot INVENTORY PATTERN` and `provision rebuild INVENTORY HOST` (src/apply/rebuild.ts).
import os from 'node:os';
import type { Args } from '../args.js';
import type { Io } from '../io.js';
import { InputError } from '../../input/errors.js';
import { Transport } from '../../transport/index.js';
import { matchHosts } from '../../inventory/pattern.js';
import { blobKeyType } from '../../transport/known-hosts.js';
import { updateKnownHostsFile } from '../../lab/knownhosts.js';
import { redact } from '../../secrets/value.js';
import { listSnapshots, pickSnapshot, rebuildHost, rebuildTarget, snapshotNow } from '../../apply/rebuild.js';
import { checkKeyFiles, checkLabBridge, loadAndCompile, repoCommit } from './engine.js';
import { CLIENT_ROLE } from '../../roles/snapshots.js';

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export async function snapshotCommand(a: Args, io: Io): Promise<number> {
  const pattern = a.positionals[1];
  if (!pattern) throw new InputError([{ file: '(command line)', at: 'PATTERN', expected: 'hosts to snapshot, e.g. drand_nodes', found: 'nothing' }]);
  const compiled = await loadAndCompile(a);
  const hosts = matchHosts(compiled.inventory, pattern).filter((h) => compiled.hosts.get(h)?.roles.some((r) => r.role.name === CLIENT_ROLE));
  if (!hosts.length) throw new InputError([{ file: '(command line)', at: 'PATTERN', expected: `hosts with role ${CLIENT_ROLE}`, found: `none among "${pattern}"` }]);
  checkKeyFiles(compiled);
  checkLabBridge(compiled);
  const transport = new Transport(compiled.inventory, { connectTimeoutMs: a.connectTimeoutMs });
  let failed = 0;
  try {
    const results = await Promise.all(hosts.map(async (h) => {
      const t0 = Date.now();
      try {
        return { host: h, ...(await snapshotNow(transport, h)), seconds: (Date.now() - t0) / 1000 };
      } catch (e) {
        failed++;
        return { host: h, error: (e as Error).message, seconds: (Date.now() - t0) / 1000 };
      }
    }));
    if (a.json) io.out(redact(JSON.stringify({ hosts: results }, null, 2)));
    else for (const r of results) io.out(redact('error' in r ? io.style('red', `${r.host}: FAILED — ${r.error}`) : `${r.host}: snapshot ${r.id} at ${r.time} (${r.seconds.toFixed(1)} s)`));
  } finally {
    await transport.close();
  }
  return failed ? 1 : 0;
}

export async function rebuildCommand(a: Args, io: Io): Promise<number> {
  const host = a.positionals[1];
  if (!host) throw new InputError([{ file: '(command line)', at: 'HOST', expected: 'the inventory name of the host to rebuild', found: 'nothing' }]);
  if (a.fingerprint !== undefined && !FINGERPRINT.test(a.fingerprint)) {
    throw new InputError([{ file: '(command line)', at: '--fingerprint', expected: 'an SSH host key fingerprint like SHA256:<43 base64 characters> (ssh-keygen -lf, or `provision lab reset`)', found: JSON.stringify(a.fingerprint) }]);
  }
  const compiled = await loadAndCompile({ ...a, limit: undefined });
  const target = rebuildTarget(compiled, host);
  checkKeyFiles(compiled);
  checkLabBridge(compiled);
  const t0 = Date.now();
  const transport = new Transport(compiled.inventory, {
    connectTimeoutMs: a.connectTimeoutMs,
    ...(a.fingerprint ? { acceptHostKey: { host, fingerprint: a.fingerprint } } : {}),
  });
  const say = (l: string) => io.out(redact(l));
  try {
    // 1. The snapshot, from the snapshot server: none, nothing is touched.
    const snapshot = pickSnapshot(await listSnapshots(transport, target.server, host), host, target.server, a.snapshot);
    say(`rebuild ${host}: snapshot ${snapshot.short_id} of ${snapshot.time} on ${target.server}: ${snapshot.paths.join(', ')}`);
    const seq = [
      `log in to ${host}: its host key must be in known_hosts${a.fingerprint ? ` or have fingerprint ${a.fingerprint}` : ''}`,
      `converge ${host} (roles ${compiled.hosts.get(host)!.roles.map((r) => r.role.name).join(', ')})${target.services.length ? ` with ${target.services.join(', ')} held stopped` : ''}`,
      `restore snapshot ${snapshot.short_id} (restic restore --verify: every file read back against the snapshot)`,
      `start ${target.services.join(', ') || '(nothing held)'}`,
      `health checks of ${host}`,
      `plan ${host}: must be empty`,
    ];
    if (a.dryRun) {
      say(`dry run: nothing changed; the rebuild would:\n${seq.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`);
      return 0;
    }
    // 2. The new machine's host key: known_hosts, or the fingerprint given out of band; else stop here.
    try {
      await transport.connect(host);
    } catch (e) {
      io.err(io.style('red', `rebuild ${host}: refused before any change — ${(e as Error).message}`));
      if (!a.fingerprint) io.err(`if this is the new machine, check the fingerprint out of band and run again with --fingerprint SHA256:…`);
      return 1;
    }
    const accepted = transport.acceptedHostKeys.get(host);
    if (accepted) {
      const h = compiled.inventory.hosts.get(host)!;
      await updateKnownHostsFile(compiled.inventory.knownHosts, [{ address: h.port === 22 ? h.address : `[${h.address}]:${h.port}`, key: `${blobKeyType(accepted)} ${accepted.toString('base64')}` }]);
      say(`rebuild ${host}: new host key ${a.fingerprint} accepted (given out of band) and recorded in ${compiled.inventory.knownHosts}`);
    }
    const result = await rebuildHost(compiled, transport, target, snapshot, {
      forks: 1, execTimeoutMs: a.execTimeoutMs, emit: () => {}, owner: `${os.userInfo().username}@${os.hostname()}`, commit: repoCommit(compiled.inventory.dir),
    }, (step, detail) => say(`rebuild ${host}: ${step}: ${detail}`));
    say(`rebuild ${host}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s (restore sequence ${result.seconds} s) — restored ${snapshot.paths.join(', ')} from snapshot ${snapshot.short_id} (${snapshot.time}); files verified, health checks pass, plan empty`);
    return 0;
  } catch (e) {
    io.err(io.style('red', `rebuild ${host}: ${(e as Error).message}`));
    return 1;
  } finally {
    await transport.close();
  }
}
