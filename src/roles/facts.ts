// Facts roles declare (RoleDefinition.facts): a read-only POSIX-sh probe that runs in the host's
// single probe exec, and its parser. Roles read them with ctx.fact(name) and judge them in checks().
import { sh } from '../shell/quote.js';
import type { RoleCheck, RoleFact } from './types.js';

/** Lines "key value" into a map (the first space splits). */
const keyed = (stdout: string): Map<string, string> =>
  new Map(stdout.split('\n').filter(Boolean).map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1).trim()] as [string, string]));

const containerLine = `c=none; [ -r /run/systemd/container ] && read -r c </run/systemd/container; printf 'container %s\\n' "\${c:-none}"`;

export interface MemoryFact {
  /** MemTotal of /proc/meminfo (a container sees its machine's) */
  totalMiB: number;
  /** the cgroup's memory.max, when one is set (a container's or a service slice's own limit) */
  limitMiB: number | null;
  /** what the host's services may use: the smaller of the two — what tuning should start from */
  usableMiB: number;
}

/** Memory for tuning (Postgres shared_buffers, caches): MemTotal and the cgroup v2 limit of PID 1. */
export function memoryFact(): RoleFact<MemoryFact> {
  return {
    description: 'memory the host has, and the cgroup limit its services run under',
    probe: `while read -r k v _; do [ "$k" = MemTotal: ] && { echo "memkb $v"; break; }; done </proc/meminfo
l=; [ -r /sys/fs/cgroup/memory.max ] && read -r l </sys/fs/cgroup/memory.max; printf 'max %s\\n' "\${l:-none}"`,
    parse(stdout) {
      const f = keyed(stdout);
      const totalMiB = Math.floor(Number(f.get('memkb')) / 1024);
      if (!Number.isFinite(totalMiB) || totalMiB <= 0) throw new Error(`no MemTotal in /proc/meminfo (probe printed ${JSON.stringify(stdout)})`);
      const max = f.get('max');
      const limitMiB = max && /^\d+$/.test(max) ? Math.floor(Number(max) / 1048576) : null;
      return { totalMiB, limitMiB, usableMiB: limitMiB === null ? totalMiB : Math.min(totalMiB, limitMiB) };
    },
  };
}

export interface EncryptedDiskFact {
  /** the existing path checked (the nearest existing parent of the one asked about) */
  path: string;
  /** the container the host runs in, or null on a machine of its own */
  container: string | null;
  /** the block devices under the path's filesystem, top down (e.g. dm-1 dm-0 sda2); empty: no block device (overlay, tmpfs, …) */
  devices: string[];
  /** a dm-crypt (LUKS or plain) device is among them */
  encrypted: boolean;
}

/**
 * Is `path` on an encrypted block device: the filesystem's device (stat's device number →
 * /sys/dev/block/MAJ:MIN) and every device under it (slaves: LVM on LUKS, a partition) are walked;
 * one whose device-mapper uuid starts with CRYPT- is dm-crypt. Reads /sys only: no tool needed.
 */
export function encryptedDiskFact(path: string): RoleFact<EncryptedDiskFact> {
  return {
    description: `is ${path} on an encrypted block device`,
    probe: `p=${sh(path)}; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
printf 'path %s\\n' "$p"
${containerLine}
d=$(stat -c %d -- "$p"); maj=$(( (d >> 8) & 4095 )); min=$(( (d & 255) | ((d >> 12) & 1048320) ))
q=/sys/dev/block/$maj:$min; devs=; enc=no
while [ -n "$q" ]; do
  set -- $q; cur=$1; shift; q="$*"
  [ -e "$cur" ] || continue
  n=$(readlink -f "$cur"); devs="$devs \${n##*/}"
  u=; [ -r "$cur/dm/uuid" ] && read -r u <"$cur/dm/uuid"
  case "$u" in CRYPT-*) enc=yes ;; esac
  for s in "$cur"/slaves/*; do [ -e "$s" ] && q="$q $s"; done
done
printf 'devices %s\\nencrypted %s\\n' "$devs" "$enc"`,
    parse(stdout) {
      const f = keyed(stdout);
      if (!f.has('path') || !f.has('encrypted')) throw new Error(`the probe printed ${JSON.stringify(stdout)}`);
      const c = f.get('container') ?? 'none';
      return {
        path: f.get('path')!,
        container: c === 'none' ? null : c,
        devices: (f.get('devices') ?? '').split(' ').filter(Boolean),
        encrypted: f.get('encrypted') === 'yes',
      };
    },
  };
}

/**
 * The check for an EncryptedDiskFact, like sizing: `enforce` fails the host's plan, `warn` warns;
 * skipped with its reason in a container (its disk is its machine's: encrypt that, check it there).
 */
export function encryptedDiskCheck(what: string, fact: EncryptedDiskFact | undefined, mode: 'enforce' | 'warn', source: string): RoleCheck {
  const name = `${what} on an encrypted disk`;
  if (!fact) return { name, mode, problem: null, skipped: 'not probed' };
  if (fact.container) return { name, mode, problem: null, skipped: `a container (${fact.container}) has no block device of its own: encrypt the machine's disk and check it there` };
  if (fact.encrypted) return { name, mode, problem: null };
  const on = fact.devices.length ? `block device ${fact.devices.join(' ← ')}, none of them dm-crypt` : 'no block device (its filesystem is not on a disk)';
  return { name, mode, problem: `${fact.path} is on ${on} (${source})` };
}
