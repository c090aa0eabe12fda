// `lab up`: idempotent. Everything already in place is left alone; hosts not running are prepared,
// their keys recorded, booted in parallel; it returns once every host accepts an SSH login.
import { ensureBases } from './base.js';
import { DEFAULT_RELEASE } from '../facts/release.js';
import { checkLabPrerequisites } from './prereqs.js';
import { bootHost, hostKeyOf, machineBase, prepareHost, runningPid, sshTimeoutMs } from './host.js';
import { ensureLabKey } from './keys.js';
import { ensureLabSecrets } from './secrets.js';
import { updateKnownHostsFile, type KnownHostLine } from './knownhosts.js';
import { readAptSources } from './mirror.js';
import { ensureLabNetwork } from './network.js';
import { hostPaths } from './paths.js';
import { waitForSsh } from './ssh.js';
import { assertValidFleet } from './validate.js';
import type { LabEmit, LabFleet, LabUpOptions, LabUpResult } from './types.js';

export async function labUp(fleet: LabFleet, opts: LabUpOptions, emit: LabEmit): Promise<LabUpResult> {
  const started = Date.now();
  assertValidFleet(fleet);
  await checkLabPrerequisites({ installDeps: opts.installDeps, vm: fleet.machine === 'vm' }, emit);
  const sources = await readAptSources();
  const labKey = await ensureLabKey(fleet.keyPath, emit);
  if (fleet.inventoryDir) ensureLabSecrets(fleet.inventoryDir, emit);
  const bases = await ensureBases(fleet.hosts, sources, emit);
  for (const [release, dir] of bases) bases.set(release, await machineBase(fleet, dir, emit));
  const net = await ensureLabNetwork(fleet, sources, emit);

  const pids = await Promise.all(fleet.hosts.map((h) => runningPid(fleet, h.name)));
  const toBoot = fleet.hosts.filter((_, i) => !pids[i]);
  const running = fleet.hosts.filter((_, i) => pids[i]);
  for (const h of running) emit({ type: 'lab.host.running', host: h.name });

  // Keys of running hosts are re-read too, so a clobbered known_hosts is repaired (and an intact one untouched).
  const entries: KnownHostLine[] = await Promise.all([
    ...toBoot.map(async (h) => ({ address: h.address, key: await prepareHost(fleet, h, bases.get(h.os ?? DEFAULT_RELEASE)!, net, labKey, emit) })),
    ...running.map(async (h) => ({ address: h.address, key: await hostKeyOf(fleet, h.name) })),
  ]);
  if (await updateKnownHostsFile(fleet.knownHosts, entries)) {
    emit({ type: 'lab.knownhosts.updated', path: fleet.knownHosts, hosts: fleet.hosts.map((h) => h.name) });
  }

  const bootStart = new Map<string, number>();
  for (const h of toBoot) {
    bootStart.set(h.name, Date.now());
    await bootHost(fleet, h, emit);
  }
  const timeout = opts.sshTimeoutMs ?? sshTimeoutMs(fleet);
  const results = await Promise.allSettled(
    fleet.hosts.map(async (h) => {
      await waitForSsh(fleet, h, timeout, async () => !!(await runningPid(fleet, h.name)), hostPaths(fleet, h.name).consoleLog);
      const t0 = bootStart.get(h.name);
      if (t0 !== undefined) emit({ type: 'lab.host.booted', host: h.name, seconds: Math.round((Date.now() - t0) / 100) / 10 });
    }),
  );
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length) throw new Error(`lab up: ${failed.length} of ${fleet.hosts.length} hosts failed:\n  - ${failed.join('\n  - ')}`);
  return { booted: toBoot.map((h) => h.name), alreadyRunning: running.map((h) => h.name), seconds: Math.round((Date.now() - started) / 100) / 10 };
}
