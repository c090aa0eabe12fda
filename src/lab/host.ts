// One lab host: an overlay root made into a host (hostname, address, keys; root.ts), booted by
// systemd-nspawn as a detached process whose pid we record, and stopped through nspawn (an orderly
// poweroff). A fleet with `machine: vm` boots QEMU machines instead (vm.ts): same calls, same files.
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMounted, unmount } from './mounts.js';
import type { LabNetwork } from './network.js';
import { hostPaths, machineName, type HostPaths } from './paths.js';
import { childrenOf, cmdline, ourLivePid, parentOf, removePid, signal, spawnDetached, waitExited, waitGone, type CmdlineMatch } from './procs.js';
import { prepareRoot } from './root.js';
import { readHostKey } from './keys.js';
import { bootVm, ensureVmBase, prepareVm, runningVmPid, stopVm, vmPaths } from './vm.js';
import type { LabEmit, LabFleet, LabHostRef } from './types.js';

const isVm = (fleet: LabFleet) => fleet.machine === 'vm';

/** How long a host may take from boot to an SSH login: an emulated VM boots in tens of seconds, several of them sharing the machine's cores longer. */
export const sshTimeoutMs = (fleet: LabFleet): number => (isVm(fleet) ? 600_000 : 120_000);

/** The base a host of this fleet is made on: the release's base, with a kernel for a VM. */
export async function machineBase(fleet: LabFleet, base: string, emit: LabEmit): Promise<string> {
  return isVm(fleet) ? ensureVmBase(base, fleet.vmPackages ?? [], emit) : base;
}

/** The public host key line of a host already made (for known_hosts). */
export async function hostKeyOf(fleet: LabFleet, host: string): Promise<string> {
  const p = hostPaths(fleet, host);
  return isVm(fleet) ? (await readFile(vmPaths(p).hostKey, 'utf8')).trim() : readHostKey(path.join(p.upper, 'etc/ssh'));
}

const STOP_TIMEOUT_MS = 30_000;

/** Our nspawn for this host: argv[0] systemd-nspawn, and booting this host's merged dir. */
function isOurNspawn(p: HostPaths): CmdlineMatch {
  return (argv) => path.basename(argv[0] ?? '') === 'systemd-nspawn' && argv.includes(`--directory=${p.merged}`);
}

export async function runningPid(fleet: LabFleet, host: string): Promise<number | undefined> {
  if (isVm(fleet)) return runningVmPid(fleet, host);
  const p = hostPaths(fleet, host);
  return ourLivePid(p.pidFile, isOurNspawn(p));
}

/**
 * Makes the host's root (a container's overlay, a VM's disks) with its identity. A fresh host gets
 * new SSH host keys, made before first boot; an existing one keeps its keys and its base.
 * Returns the host's public key line for known_hosts. `base` is the release's base for the fleet's
 * machine kind (ensureMachineBases).
 */
export async function prepareHost(fleet: LabFleet, host: LabHostRef, base: string, net: LabNetwork, labPublicKey: string, emit: LabEmit): Promise<string> {
  return isVm(fleet) ? prepareVm(fleet, host, base, net, labPublicKey, emit) : prepareRoot(fleet, host, base, net, labPublicKey, emit);
}

export async function bootHost(fleet: LabFleet, host: LabHostRef, emit: LabEmit): Promise<number> {
  if (isVm(fleet)) return bootVm(fleet, host, emit);
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
  const pid = await spawnDetached('systemd-nspawn', args, p.consoleLog, p.pidFile);
  emit({ type: 'lab.host.booting', host: host.name, pid, log: p.consoleLog });
  return pid;
}

/** Orderly stop: SIGTERM makes nspawn power the container off. After a timeout, SIGKILL the
 * container's init (nspawn's child) and nspawn itself — only pids we can trace to our nspawn. */
export async function stopHost(fleet: LabFleet, host: string, emit: LabEmit): Promise<void> {
  if (isVm(fleet)) return stopVm(fleet, host, emit);
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
