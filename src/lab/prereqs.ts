// The lab needs root and a few Debian packages. A fresh CI machine lacks them: install them only when
// asked (--install-deps or CI=true), otherwise name exactly what to install.
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TOOL_PATH, runOk } from './exec.js';
import type { LabEmit } from './types.js';

/** command the lab runs -> Debian package that provides it */
export const LAB_TOOLS: ReadonlyArray<{ command: string; pkg: string }> = [
  { command: 'systemd-nspawn', pkg: 'systemd-container' },
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'nft', pkg: 'nftables' },
  { command: 'apt-cacher-ng', pkg: 'apt-cacher-ng' },
  { command: 'ssh', pkg: 'openssh-client' },
  { command: 'ssh-keygen', pkg: 'openssh-client' },
  { command: 'ip', pkg: 'iproute2' },
  // the lab's secrets are encrypted to a lab identity (src/lab/secrets.ts)
  { command: 'age', pkg: 'age' },
  { command: 'age-keygen', pkg: 'age' },
];

export async function findCommand(command: string): Promise<string | undefined> {
  for (const dir of TOOL_PATH.split(':')) {
    const p = path.join(dir, command);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* not in this directory */
    }
  }
  return undefined;
}

/** and for VM hosts (`lab.machine: vm`, src/lab/vm.ts) */
export const VM_TOOLS: ReadonlyArray<{ command: string; pkg: string }> = [
  { command: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { command: 'mkfs.ext4', pkg: 'e2fsprogs' },
];

export async function missingPackages(vm = false): Promise<string[]> {
  const missing = new Set<string>();
  for (const t of vm ? [...LAB_TOOLS, ...VM_TOOLS] : LAB_TOOLS) if (!(await findCommand(t.command))) missing.add(t.pkg);
  return [...missing].sort();
}

export function missingDepsMessage(packages: string[]): string {
  return (
    `the lab needs these Debian packages, which are not installed: ${packages.join(' ')}\n` +
    `  install them with: apt-get install -y ${packages.join(' ')}\n` +
    `  or run again with --install-deps (implied when CI=true)`
  );
}

export async function checkLabPrerequisites(opts: { installDeps: boolean; vm?: boolean }, emit: LabEmit = () => {}): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the lab must run as root: it creates a bridge, nftables rules, overlay mounts and containers');
  }
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\boverlay\b/.test(filesystems)) {
    throw new Error('the kernel has no overlay filesystem (modprobe overlay): lab hosts are overlays on one Debian base');
  }
  let missing = await missingPackages(opts.vm);
  if (missing.length === 0) return;
  const install = opts.installDeps || process.env.CI === 'true';
  if (!install) throw new Error(missingDepsMessage(missing));
  emit({ type: 'lab.deps.installing', packages: missing });
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runOk('apt-get', ['update'], { env });
  await runOk('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  missing = await missingPackages(opts.vm);
  if (missing.length) throw new Error(`apt-get install ran but these packages still provide no command: ${missing.join(' ')}`);
}
