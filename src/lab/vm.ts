// A lab host as a virtual machine (`lab.machine: vm`): what a container cannot be — its own kernel
// (kernel sysctls, auditd, AppArmor, modules) and its own file systems (/var and /home apart, /tmp
// and /dev/shm without exec, as CIS lays a server out). Made from the same base and the same host
// files as a container (root.ts); its disks are ext4 images made from that root, booted by QEMU
// with the Debian kernel of the release. Containers stay the lab's default: they boot in a second.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildOnce, isBaseReady, runInTree } from './base.js';
import { run, runOk } from './exec.js';
import { mountPoints, unmount } from './mounts.js';
import type { LabNetwork } from './network.js';
import { hostPaths, machineName, type HostPaths } from './paths.js';
import { ourLivePid, removePid, signal, spawnDetached, waitExited, waitGone, type CmdlineMatch } from './procs.js';
import { vmMac } from './hostfiles.js';
import { prepareRoot } from './root.js';
import type { LabEmit, LabFleet, LabHostRef } from './types.js';

/** What a VM needs beyond the container base: a kernel with its initramfs, udev for its devices. */
const VM_PACKAGES = ['linux-image-amd64', 'initramfs-tools', 'udev', 'kmod'];
// Bump when ensureVmBase changes.
const VM_RECIPE = 1;
/** Disk sizes (sparse files: only what is written takes space). */
const DISKS = [
  // base's sizing wants 7 GiB at / (it cannot know /var is apart)
  { name: 'root', mount: '/', size: '8G' },
  { name: 'var', mount: '/var', size: '3G' },
  { name: 'home', mount: '/home', size: '512M' },
] as const;
const MEMORY_MB = 1536;
const POWERDOWN_TIMEOUT_MS = 90_000;

/**
 * QEMU's accelerator. TCG (emulation) by default: it runs everywhere, also inside a cloud VM whose
 * nested KVM is missing or broken — on the machine this lab was built on, /dev/kvm opens but the
 * guest kernel hangs in its decompressor. PROVISION_LAB_ACCEL=kvm uses KVM where it works (≈10×
 * faster).
 */
function accelerator(): string {
  return process.env.PROVISION_LAB_ACCEL === 'kvm' ? 'kvm' : 'tcg';
}

export interface VmPaths {
  disks: { name: string; mount: string; size: string; file: string }[];
  kernel: string;
  initrd: string;
  qmp: string;
  /** the host's public key line, kept beside its disks (the root image is not mounted here) */
  hostKey: string;
  qemuLog: string;
}

export function vmPaths(p: HostPaths): VmPaths {
  return {
    disks: DISKS.map((d) => ({ ...d, file: path.join(p.dir, `${d.name}.img`) })),
    kernel: path.join(p.dir, 'vmlinuz'),
    initrd: path.join(p.dir, 'initrd.img'),
    qmp: path.join(p.dir, 'qmp.sock'),
    hostKey: path.join(p.dir, 'ssh_host_ed25519_key.pub'),
    qemuLog: path.join(p.dir, 'qemu.log'),
  };
}

/**
 * The release's container base with a kernel added (and the fleet's vm_packages), built once next
 * to it and stamped the same way.
 */
export async function ensureVmBase(base: string, extra: readonly string[], emit: LabEmit): Promise<string> {
  const packages = [...VM_PACKAGES, ...[...extra].sort()];
  const dir = `${base}-vm${VM_RECIPE}${extra.length ? `-${createHash('sha256').update(packages.join(' ')).digest('hex').slice(0, 8)}` : ''}`;
  if (await isBaseReady(dir)) {
    emit({ type: 'lab.base.cached', dir });
    return dir;
  }
  emit({ type: 'lab.vmbase.building', dir, base, packages });
  const started = Date.now();
  const built = await buildOnce(dir, async (tmp) => {
    await runOk('cp', ['-a', '--reflink=auto', `${base}/.`, tmp]);
    // package names were checked by the inventory schema ([a-z0-9+.-])
    await runInTree(tmp, `apt-get -q update && apt-get -q -y --no-install-recommends install ${packages.join(' ')} && apt-get clean`);
    return `${base} + ${packages.join(' ')}`;
  });
  if (built) emit({ type: 'lab.base.built', dir, seconds: Math.round((Date.now() - started) / 100) / 10 });
  return dir;
}

/** The newest kernel and initramfs in a root's /boot. */
async function kernelOf(root: string): Promise<{ kernel: string; initrd: string }> {
  const names = await readdir(path.join(root, 'boot'));
  const versions = names.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length)).sort();
  const v = versions.pop();
  if (!v || !names.includes(`initrd.img-${v}`)) throw new Error(`${root}/boot: no kernel with its initrd.img`);
  return { kernel: path.join(root, 'boot', `vmlinuz-${v}`), initrd: path.join(root, 'boot', `initrd.img-${v}`) };
}

/**
 * Makes the host's disks once: its root (root.ts) on the VM base, then one ext4 image per file
 * system, filled from that root (mke2fs -d) — /var and /home into their own, the root image with
 * empty mount points for them. The overlay is then dropped: the images are the host's disk.
 * Returns the host's public key line.
 */
export async function prepareVm(fleet: LabFleet, host: LabHostRef, vmBase: string, net: LabNetwork, labPublicKey: string, emit: LabEmit): Promise<string> {
  const p = hostPaths(fleet, host.name);
  const v = vmPaths(p);
  if (await stat(v.hostKey).then(() => true, () => false)) return (await readFile(v.hostKey, 'utf8')).trim();
  const key = await prepareRoot(fleet, host, vmBase, net, labPublicKey, emit);
  try {
    const empty = path.join(p.dir, 'empty');
    await mkdir(empty, { recursive: true, mode: 0o755 });
    const covered: string[] = [];
    try {
      // the root image gets /var and /home as empty mount points: cover them while it is made
      for (const d of v.disks.filter((x) => x.mount !== '/')) {
        const at = path.join(p.merged, d.mount);
        await runOk('mount', ['--bind', '-o', 'ro', empty, at]);
        covered.push(at);
      }
      const rootDisk = v.disks.find((x) => x.mount === '/')!;
      await mkfs(rootDisk.file, p.merged, rootDisk.size, 'root');
    } finally {
      for (const at of covered.reverse()) await unmount(at);
    }
    for (const d of v.disks.filter((x) => x.mount !== '/')) await mkfs(d.file, path.join(p.merged, d.mount), d.size, d.name);
    const k = await kernelOf(p.merged);
    await copyFile(k.kernel, v.kernel);
    await copyFile(k.initrd, v.initrd);
    await rm(empty, { recursive: true, force: true });
  } catch (err) {
    for (const d of v.disks) await rm(d.file, { force: true });
    throw err;
  } finally {
    await unmount(p.merged);
  }
  // written last: its presence means the disks are complete
  await writeFile(v.hostKey, `${key.trim()}\n`);
  for (const d of [p.upper, p.work, p.merged]) await rm(d, { recursive: true, force: true });
  return key;
}

async function mkfs(file: string, from: string, size: string, label: string): Promise<void> {
  await rm(file, { force: true });
  await runOk('mkfs.ext4', ['-q', '-F', '-L', label, '-d', from, file, size]);
}

/** The tap device of a host on the lab bridge: at most 15 characters, unique per fleet and host. */
export function tapName(fleet: Pick<LabFleet, 'bridge'>, host: string): string {
  return `pvt${createHash('sha256').update(machineName(fleet, host)).digest('hex').slice(0, 12)}`;
}

/** Our QEMU for this host: a qemu-system binary running under this host's machine name. */
function isOurQemu(fleet: LabFleet, host: string): CmdlineMatch {
  const name = `guest=${machineName(fleet, host)}`;
  return (argv) => path.basename(argv[0] ?? '').startsWith('qemu-system-') && argv.includes(name);
}

export async function runningVmPid(fleet: LabFleet, host: string): Promise<number | undefined> {
  return ourLivePid(hostPaths(fleet, host).pidFile, isOurQemu(fleet, host));
}

export async function bootVm(fleet: LabFleet, host: LabHostRef, emit: LabEmit): Promise<number> {
  const p = hostPaths(fleet, host.name);
  const v = vmPaths(p);
  const tap = tapName(fleet, host.name);
  if ((await run('ip', ['link', 'show', 'dev', tap])).code !== 0) await runOk('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  await runOk('ip', ['link', 'set', 'dev', tap, 'master', fleet.bridge]);
  await runOk('ip', ['link', 'set', 'dev', tap, 'up']);
  await rm(v.qmp, { force: true });
  const args = [
    '-name', `guest=${machineName(fleet, host.name)}`,
    '-accel', accelerator(),
    '-m', String(MEMORY_MB),
    '-smp', '1',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${p.consoleLog}`,
    // the power button, pressed by `stop` (QMP system_powerdown): an orderly shutdown
    '-qmp', `unix:${v.qmp},server=on,wait=off`,
    '-kernel', v.kernel,
    '-initrd', v.initrd,
    '-append', 'root=/dev/vda ro console=ttyS0',
    ...v.disks.flatMap((d) => ['-drive', `file=${d.file},format=raw,if=virtio`]),
    '-netdev', `tap,id=lab,ifname=${tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=lab,mac=${vmMac(host.address)}`,
    // entropy at boot: sshd and getrandom() do not wait for an emulated machine's own
    '-device', 'virtio-rng-pci',
  ];
  const pid = await spawnDetached('qemu-system-x86_64', args, v.qemuLog, p.pidFile);
  emit({ type: 'lab.host.booting', host: host.name, pid, log: p.consoleLog });
  return pid;
}

/** Orderly stop: the power button over QMP; after a timeout, SIGKILL our QEMU. Then its tap goes. */
export async function stopVm(fleet: LabFleet, host: string, emit: LabEmit): Promise<void> {
  const p = hostPaths(fleet, host);
  const match = isOurQemu(fleet, host);
  const pid = await ourLivePid(p.pidFile, match);
  if (pid) {
    emit({ type: 'lab.host.stopping', host });
    await qmp(vmPaths(p).qmp, 'system_powerdown').catch(() => {});
    let forced = false;
    if (!(await waitGone(pid, POWERDOWN_TIMEOUT_MS, match))) {
      forced = true;
      if (await ourLivePid(p.pidFile, match)) signal(pid, 'SIGKILL');
      if (!(await waitExited(pid, 10_000))) throw new Error(`host ${host}: process ${pid} did not exit after SIGKILL`);
    }
    emit({ type: 'lab.host.stopped', host, forced });
  }
  await removePid(p.pidFile);
  const tap = tapName(fleet, host);
  if ((await run('ip', ['link', 'show', 'dev', tap])).code === 0) await runOk('ip', ['link', 'del', 'dev', tap]);
  // a prepareVm cut short leaves its overlay mounted
  for (const m of (await mountPoints()).filter((m) => m.startsWith(`${p.dir}/`)).reverse()) await unmount(m);
}

/** One QMP command: greeting, capabilities negotiation, the command; resolves on its answer. */
function qmp(socket: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`QMP ${socket}: no answer`)); }, 5000);
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
    c.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (step === 0 && 'QMP' in msg) { step = 1; c.write('{"execute":"qmp_capabilities"}\n'); }
        else if (step === 1 && 'return' in msg) { step = 2; c.write(`${JSON.stringify({ execute: command })}\n`); }
        else if (step === 2 && ('return' in msg || 'error' in msg)) { clearTimeout(timer); c.end(); resolve(); }
      }
    });
  });
}
