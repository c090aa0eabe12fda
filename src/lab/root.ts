// A host's root file system made out of the shared base: an overlay (base below, the host's own
// layer above) with the host's identity written into it — hostname, address, keys, login user.
// A container boots this root directly; a VM's disks are made from it (vm.ts).
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runOk } from './exec.js';
import { labSudoers, renderHostFiles, sudoUser } from './hostfiles.js';
import { generateHostKey, readHostKey } from './keys.js';
import { mountOverlay } from './mounts.js';
import type { LabNetwork } from './network.js';
import { hostPaths } from './paths.js';
import type { LabEmit, LabFleet, LabHostRef } from './types.js';

/**
 * Mounts the host's root and writes its identity. A fresh upper layer gets new SSH host keys (made
 * here, before first boot); an existing one keeps its keys and the base it was made on.
 * Returns the host's public key line for known_hosts.
 */
export async function prepareRoot(fleet: LabFleet, host: LabHostRef, base: string, net: LabNetwork, labPublicKey: string, emit: LabEmit): Promise<string> {
  const p = hostPaths(fleet, host.name);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const recordedBase = (await readFile(p.baseFile, 'utf8').catch(() => '')).trim();
  const lower = recordedBase || base;
  if (recordedBase && !(await stat(`${recordedBase}.ok`).then(() => true, () => false))) {
    throw new Error(`host ${host.name} was made on base ${recordedBase}, which is gone: run \`provision lab reset\` for it`);
  }
  // base-<suite>-<hash>: a host keeps the release it was made on; another one needs a fresh disk
  const suiteOf = (dir: string) => path.basename(dir).split('-')[1];
  if (recordedBase && suiteOf(recordedBase) !== suiteOf(base)) {
    throw new Error(`host ${host.name} was made on ${suiteOf(recordedBase)}, its inventory now asks for ${suiteOf(base)}: run \`provision lab reset ${host.name}\` for it`);
  }
  await writeFile(p.baseFile, `${lower}\n`);
  await mountOverlay(lower, p.upper, p.work, p.merged);
  const etcSsh = path.join(p.merged, 'etc/ssh');
  const fresh = !(await stat(path.join(etcSsh, 'ssh_host_ed25519_key')).then(() => true, () => false));
  const key = fresh ? await generateHostKey(etcSsh, host.name) : await readHostKey(etcSsh);
  const login = sudoUser(host);
  if (login) await ensureAccount(p.merged, login);
  for (const f of renderHostFiles(fleet, host, net, labPublicKey)) {
    const target = path.join(p.merged, f.path);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await rm(target, { force: true }); // may be a symlink in the base (e.g. resolv.conf)
    await writeFile(target, f.content, { mode: f.mode });
    await chmod(target, f.mode);
    if (f.owner) {
      const { uid, gid } = await accountIds(p.merged, f.owner);
      await chown(path.dirname(target), uid, gid);
      await chown(target, uid, gid);
    }
  }
  emit({ type: 'lab.host.prepared', host: host.name, fresh });
  return key;
}

/** The login user of a host that does not log in as root: made once, in the sudo group, no password, passwordless sudo. */
async function ensureAccount(root: string, user: string): Promise<void> {
  if (await accountIds(root, user).then(() => true, () => false)) return;
  await runOk('useradd', ['--root', root, '--create-home', '--shell', '/bin/bash', '--groups', 'sudo', '--', user]);
  const sudoers = labSudoers(user);
  await writeFile(path.join(root, sudoers.path), sudoers.content, { mode: sudoers.mode });
  await chmod(path.join(root, sudoers.path), sudoers.mode);
}

async function accountIds(root: string, user: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile(path.join(root, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`lab host ${root}: no account ${user}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

