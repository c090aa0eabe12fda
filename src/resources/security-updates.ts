// securityUpdates: pending updates from the security archive are part of convergence. The probe
// asks apt what an upgrade would install (`apt-get -s upgrade`, from the package lists on the host
// as they are: the probe never refreshes them — apt's daily timer and apply do) and keeps the
// packages one of whose candidate origins carries the security label; it also lists the services
// whose processes still map a deleted (replaced) shared library. Apply runs unattended-upgrade
// itself, so exactly the packages its origin patterns allow (the same the timer would take), then
// restarts those services — except the ones the role says must be restarted in a scheduled window,
// which it names as "restart needed".
// NOT YET USED BY A ROLE: see docs/hardening.md "Security updates" for what wiring it into base needs.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { common, resourceParts, type Delta } from './common.js';

export interface SecurityUpdatesOptions extends ResourceCommon {
  /** apt's label of the security archive (Debian: "Debian-Security") */
  label: string;
  /** services (units) never restarted by apply: listed "restart needed" (e.g. a randomness producer) */
  scheduledRestart?: string[];
}

export interface SecurityUpdate {
  name: string;
  from: string;
  to: string;
}

export interface SecurityUpdatesState {
  pending: SecurityUpdate[];
  /** units running on a replaced library now */
  stale: string[];
  /** apt could not simulate (lists missing, dpkg interrupted) */
  error?: string;
}

const UNIT = /^[A-Za-z0-9@._:-]+\.service$/;
/** `Inst name [old] (new Origin:version/archive, Label:… [arch])` — apt-get -s */
const INST = /^Inst (\S+) \[([^\]]+)\] \((\S+) (.*)\[[^\]]*\]\)/;

/** the services whose processes map a deleted shared library (replaced by an upgrade) */
const STALE_UNITS = [
  `for m in /proc/[0-9]*/maps; do`,
  `  grep -qE '\\.so[.0-9]* \\(deleted\\)$' "$m" 2>/dev/null || continue`,
  `  sed -n 's|^0::/system\\.slice/\\([^/]*\\.service\\).*|\\1|p' "\${m%/maps}/cgroup" 2>/dev/null`,
  `done | sort -u`,
].join('\n');

export function securityUpdates(opts: SecurityUpdatesOptions): Resource<SecurityUpdatesState> {
  const type = 'security-updates';
  const label = opts?.label;
  if (typeof label !== 'string' || !/^[A-Za-z0-9._-]+$/.test(label)) throw new ResourceError(`${type}: label must be an apt label like Debian-Security, got ${JSON.stringify(label)}`);
  const scheduled = opts.scheduledRestart ?? [];
  for (const u of scheduled) if (!UNIT.test(u)) throw new ResourceError(`${type}:${label}: scheduledRestart entry ${JSON.stringify(u)} is not a .service unit name`);
  const c = common(type, label, opts);

  const probe = (): string =>
    [
      // -o Debug::NoLocking: a read-only simulation that does not wait for the daily apt run
      `if out=$(LC_ALL=C apt-get -s -o Debug::NoLocking=1 upgrade 2>&1); then`,
      `  printf '%s\\n' "$out" | grep '^Inst ' | grep -F ${sh(` ${label}:`)} | sed 's/^/pkg /'`,
      `else printf 'error %s\\n' "$(printf '%s' "$out" | tail -n 1)"; fi`,
      `${STALE_UNITS} | sed 's/^/stale /'`,
    ].join('\n');

  const parse = (stdout: string): SecurityUpdatesState => {
    const s: SecurityUpdatesState = { pending: [], stale: [] };
    for (const line of stdout.split('\n')) {
      if (line.startsWith('error ')) s.error = line.slice(6);
      else if (line.startsWith('stale ') && UNIT.test(line.slice(6))) s.stale.push(line.slice(6));
      else if (line.startsWith('pkg ')) {
        const m = INST.exec(line.slice(4));
        if (m) s.pending.push({ name: m[1]!, from: m[2]!, to: m[3]! });
      }
    }
    return s;
  };

  const restarts = (stale: string[]) => stale.filter((u) => !scheduled.includes(u));
  const needed = (stale: string[]) => stale.filter((u) => scheduled.includes(u));

  const delta = (s: SecurityUpdatesState): Delta | null => {
    if (s.error !== undefined) return { action: 'update', summary: `apt cannot simulate an upgrade: ${s.error}` };
    const r = restarts(s.stale);
    // only a scheduled restart outstanding: nothing apply would do
    if (s.pending.length === 0 && r.length === 0) return null;
    const list = s.pending.map((p) => `${p.name} ${p.from} → ${p.to}`);
    const parts: string[] = [];
    if (s.pending.length) parts.push(`${s.pending.length} security update${s.pending.length === 1 ? '' : 's'}: ${list.join(', ')} (unattended-upgrade)`);
    if (r.length) parts.push(`restart ${r.join(', ')} (running on replaced libraries)`);
    if (s.pending.length) parts.push('then restart the services left running on replaced libraries');
    const n = needed(s.stale);
    if (n.length || scheduled.length) parts.push(`never restarted here, listed "restart needed" for a scheduled window: ${[...new Set([...n, ...scheduled])].join(', ')}`);
    return { action: 'update', summary: parts.join('; '), ...(list.length ? { diff: list.map((l) => `+ ${l}`).join('\n') } : {}) };
  };

  const apply = (): string =>
    [
      'export DEBIAN_FRONTEND=noninteractive',
      // the lists the probe read may be old (or missing on a fresh image): refresh them first
      'apt-get update -qq || exit 1',
      // unattended-upgrade's own selection: its Origins-Pattern (base allows the security archive only)
      'unattended-upgrade || exit 1',
      // nothing from the security archive may remain pending (held back, a dependency failed)
      `left=$(LC_ALL=C apt-get -s -o Debug::NoLocking=1 upgrade 2>&1 | grep '^Inst ' | grep -F ${sh(` ${label}:`)} | cut -d' ' -f2 | tr '\\n' ' ')`,
      `[ -z "$left" ] || { echo "security updates still pending after unattended-upgrade: $left" >&2; exit 1; }`,
      `for u in $(${STALE_UNITS}); do`,
      `  case " ${scheduled.join(' ')} " in *" $u "*) echo "restart needed: $u (running on a replaced library; restarted in a scheduled window)"; continue;; esac`,
      `  systemctl restart -- "$u" || exit 1`,
      'done',
    ].join('\n');

  return { ...c, ...resourceParts(c, { probe, parse, delta, apply }) };
}
