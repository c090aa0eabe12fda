// The facts part of a host's single probe exec: a read-only sh snippet and its parser.
import { sh } from '../shell/quote.js';
import type { DiskFact, Facts } from './types.js';

/** `diskPaths`: the paths whose filesystem size the roles' sizing asks about. */
export function factsProbe(diskPaths: string[]): string {
  const disks = diskPaths
    .map(
      (p) => `p=${sh(p)}; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
df -Pk "$p" 2>/dev/null | awk -v want=${sh(p)} 'NR==2 {print "disk " want " " $6 " " $2 " " $4}'`,
    )
    .join('\n');
  return `. /etc/os-release 2>/dev/null
printf 'os %s|%s|%s\\n' "\${ID:-unknown}" "\${VERSION_ID:-}" "\${PRETTY_NAME:-}"
printf 'arch %s\\n' "$(uname -m)"
printf 'cpus %s\\n' "$(nproc 2>/dev/null || echo 0)"
awk '/^MemTotal:/ {print "memkb " $2}' /proc/meminfo
printf 'container %s\\n' "$(systemd-detect-virt --container 2>/dev/null || echo none)"
printf 'vm %s\\n' "$(systemd-detect-virt --vm 2>/dev/null || echo none)"
printf 'machineid %s\\n' "$(cat /etc/machine-id 2>/dev/null)"
printf 'hostname %s\\n' "$(hostname 2>/dev/null || cat /etc/hostname)"
${disks}
ss -Hltun 2>/dev/null | awk '{print "listen " $1 " " $5}'
`;
}

export function parseFacts(out: string): Facts {
  const f: Facts = {
    os: { id: 'unknown', versionId: '', prettyName: '' },
    arch: '',
    cpus: 0,
    memoryGiB: 0,
    disks: [],
    container: 'none',
    vm: 'none',
    machineId: '',
    hostname: '',
    listening: [],
  };
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const key = line.slice(0, sp);
    const rest = line.slice(sp + 1).trim();
    switch (key) {
      case 'os': {
        const [id = 'unknown', versionId = '', prettyName = ''] = rest.split('|');
        f.os = { id, versionId, prettyName };
        break;
      }
      case 'arch': f.arch = rest; break;
      case 'cpus': f.cpus = Number(rest) || 0; break;
      case 'memkb': f.memoryGiB = round2(Number(rest) / 1024 / 1024); break;
      case 'container': f.container = rest || 'none'; break;
      case 'vm': f.vm = rest || 'none'; break;
      case 'machineid': f.machineId = rest; break;
      case 'hostname': f.hostname = rest; break;
      case 'disk': {
        const [path = '', mount = '', sizeKb = '0', availKb = '0'] = rest.split(' ');
        const d: DiskFact = { path, mount, sizeGiB: round2(Number(sizeKb) / 1048576), availGiB: round2(Number(availKb) / 1048576) };
        f.disks.push(d);
        break;
      }
      case 'listen': f.listening.push(rest); break;
    }
  }
  return f;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
