// One lab host: an overlay root made into a host (hostname, address, keys), booted by systemd-nspawn
// as a detached process whose pid we record, and stopped through nspawn (an orderly poweroff).
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runOk, TOOL_PATH } from './exec.js';
import { labSudoers, renderHostFiles, sudoUser } from './hostfiles.js';
import { generateHostKey, readHostKey } from './keys.js';
import { isMounted, mountOverlay, unmount } from './mounts.js';
import type { LabNetwork } from './network.js';
import { hostPaths, machineName, type HostPaths } from './paths.js';
import { childrenOf, cmdline, ourLivePid, parentOf, removePid, signal, waitExited, waitGone, writePid, type CmdlineMatch } from './procs.js';
import type { LabEmit, LabFleet, LabHostRef } from './types.js';

const STOP_TIMEOUT_MS = 30_000;

/** Our nspawn for this host: argv[0] systemd-nspawn, and booting this host's merged dir. */
function isOurNspawn(p: HostPaths): CmdlineMatch {
  return (argv) => path.basename(argv[0] ?? '') === 'systemd-nspawn' && argv.includes(`--directory=${p.merged}`);
}

export async function runningPid(fleet: LabFleet, host: string): Promise<number | undefined> {
  const p = hostPaths(fleet, host);
  return ourLivePid(p.pidFile, isOurNspawn(p));
}

/**
 * Mounts the host's root and writes its identity. A fresh upper layer gets new SSH host keys (made
 * here, before first boot); an existing one keeps its keys and the base it was made on.
 * Returns the host's public key line for known_hosts.
 */
export async function prepareHost(fleet: LabFleet, host: LabHostRef, base: string, net: LabNetwork, labPublicKey: string, emit: LabEmit): Promise<string> {
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

export async function bootHost(fleet: LabFleet, host: LabHostRef, emit: LabEmit): Promise<number> {
  const p = hostPaths(fleet, host.name);
  const args = [
    '--boot',
    '--register=no', // no systemd-machined here (PID 1 is not systemd)
    '--keep-unit', // and no systemd to create a scope unit for it
    `--network-bridge=${fleet.bridge}`,
    `--directory=${p.merged}`,
    `--machine=${machineName(fleet, host.name)}`,
    '--resolv-conf=off', // /etc/resolv.conf is ours (see hostfiles.ts)
    '--link-journal=no',
    '--console=read-only', // boot messages to the log, no interactive console
    // process accounting (base: acct) as on a VM; accounting is per PID namespace, so each host's own
    '--capability=CAP_SYS_PACCT',
  ];
  // wireguard-go needs a tun device inside the host
  if (await stat('/dev/net/tun').then(() => true, () => false)) args.push('--bind=/dev/net/tun');
  const log = await open(p.consoleLog, 'w');
  try {
    const child = spawn('systemd-nspawn', args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, PATH: TOOL_PATH } });
    child.unref();
    if (!child.pid) throw new Error(`host ${host.name}: systemd-nspawn did not start`);
    await writePid(p.pidFile, child.pid);
    emit({ type: 'lab.host.booting', host: host.name, pid: child.pid, log: p.consoleLog });
    return child.pid;
  } finally {
    await log.close();
  }
}

/** Orderly stop: SIGTERM makes nspawn power the container off. After a timeout, SIGKILL the
 * container's init (nspawn's child) and nspawn itself — only pids we can trace to our nspawn. */
export async function stopHost(fleet: LabFleet, host: string, emit: LabEmit): Promise<void> {
  const p = hostPaths(fleet, host);
  const match = isOurNspawn(p);
  const pid = await ourLivePid(p.pidFile, match);
  if (pid) {
    emit({ type: 'lab.host.stopping', host });
    signal(pid, 'SIGTERM');
    let forced = false;
    if (!(await waitGone(pid, STOP_TIMEOUT_MS, match))) {
      forced = true;
      const killed: number[] = [];
      for (const child of await childrenOf(pid)) {
        if ((await parentOf(child)) === pid && (await cmdline(child)) && signal(child, 'SIGKILL')) killed.push(child);
      }
      if (await ourLivePid(p.pidFile, match)) signal(pid, 'SIGKILL');
      // the container's init lingers until the kernel has killed everything in its pid namespace
      for (const k of [pid, ...killed]) {
        if (!(await waitExited(k, 10_000))) throw new Error(`host ${host}: process ${k} did not exit after SIGKILL`);
      }
    }
    emit({ type: 'lab.host.stopped', host, forced });
  }
  await removePid(p.pidFile);
  await unmount(p.merged);
}

/** Removes everything of a stopped host: its disk (upper layer), keys, logs. Returns whether there was any. */
export async function wipeHost(fleet: LabFleet, host: string): Promise<boolean> {
  const p = hostPaths(fleet, host);
  if (await runningPid(fleet, host)) throw new Error(`host ${host} is still running`);
  // Never delete through a mounted overlay.
  if (await isMounted(p.merged)) throw new Error(`${p.merged} is still mounted`);
  const existed = await stat(p.dir).then(() => true, () => false);
  await rm(p.dir, { recursive: true, force: true });
  return existed;
}
