// The facts part of a host's single probe exec: a read-only sh snippet and its parser.
import { sh } from '../shell/quote.js';
import type { DiskFact, Facts } from './types.js';
import { releaseOf } from './release.js';

/**
 * `diskPaths`: the paths whose filesystem size the roles' sizing asks about.
 * Every process counts (fifty hosts run this at once on shared cores): what a file or the shell's
 * `read` can tell is read, not asked of a program; df output is cut by `read`, not awk.
 */
export function factsProbe(diskPaths: string[]): string {
  const disks = diskPaths
    .map(
      (p) => `p=${sh(p)}; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
df -Pk -- "$p" 2>/dev/null | { read -r _ && read -r _ size _ avail _ mnt && printf 'disk %s %s %s %s\\n' ${sh(p)} "$mnt" "$size" "$avail"; }`,
    )
    .join('\n');
  // systemd (PID 1) writes the container it detected to /run/systemd/container; without systemd
  // as init, systemd-detect-virt is asked.
  return `. /etc/os-release 2>/dev/null
printf 'os %s|%s|%s\\n' "\${ID:-unknown}" "\${VERSION_ID:-}" "\${PRETTY_NAME:-}"
printf 'codename %s\\n' "\${VERSION_CODENAME:-}"
printf 'arch %s\\ncpus %s\\n' "$(uname -m)" "$(nproc 2>/dev/null || echo 0)"
while read -r k v _; do [ "$k" = MemTotal: ] && { echo "memkb $v"; break; }; done </proc/meminfo
c=none
if [ -d /run/systemd/system ]; then [ -r /run/systemd/container ] && read -r c </run/systemd/container
else c=$(systemd-detect-virt --container 2>/dev/null || echo none); fi
printf 'container %s\\n' "\${c:-none}"
m=; read -r m </etc/machine-id 2>/dev/null; printf 'machineid %s\\n' "$m"
h=; read -r h </proc/sys/kernel/hostname 2>/dev/null || read -r h </etc/hostname; printf 'hostname %s\\n' "$h"
${disks}
`;
}

export function parseFacts(out: string): Facts {
  const f: Facts = {
    os: { id: 'unknown', versionId: '', codename: '', prettyName: '' },
    release: '',
    arch: '',
    cpus: 0,
    memoryGiB: 0,
    disks: [],
    container: 'none',
    machineId: '',
    hostname: '',
  };
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const key = line.slice(0, sp);
    const rest = line.slice(sp + 1).trim();
    switch (key) {
      case 'os': {
        const [id = 'unknown', versionId = '', prettyName = ''] = rest.split('|');
        f.os = { ...f.os, id, versionId, prettyName };
        break;
      }
      case 'codename': f.os = { ...f.os, codename: rest }; break;
      case 'arch': f.arch = rest; break;
      case 'cpus': f.cpus = Number(rest) || 0; break;
      case 'memkb': f.memoryGiB = round2(Number(rest) / 1024 / 1024); break;
      case 'container': f.container = rest || 'none'; break;
      case 'machineid': f.machineId = rest; break;
      case 'hostname': f.hostname = rest; break;
      case 'disk': {
        const [path = '', mount = '', sizeKb = '0', availKb = '0'] = rest.split(' ');
        const d: DiskFact = { path, mount, sizeGiB: round2(Number(sizeKb) / 1048576), availGiB: round2(Number(availKb) / 1048576) };
        f.disks.push(d);
        break;
      }
    }
  }
  f.release = releaseOf(f.os);
  return f;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
