// securityUpdates: pending updates from the security archive are part of convergence.
//
// Which package lists: the ones on the host, refreshed by ONE rule shared with the apt resource
// (apt.ts LISTS_STATE: apt's daily timer or provision refreshed them less than 48 h ago). The probe
// never refreshes (it is read-only and stays fast); it says when the lists were refreshed. With
// fresh lists the plan names every package and version, and apply checks the lists are still the
// ones the plan read before it installs, so it installs exactly what the plan showed. Stale lists
// (a fresh image, a dead timer, a new source) are a change of their own: refresh, then install what
// they list — the plan says so, and the apt resource refreshes by the same rule, so nothing else in
// the run refreshes lists behind the plan's back.
//
// What is pending: every installed package (not held) whose version is older than the version in
// a list whose Release carries the security label — read with awk from the lists (≈0.15 s on a lab
// host, where `apt-get -s upgrade` takes ≈1.9 s of solver time per probe). Apply runs
// unattended-upgrade itself (its Origins-Pattern, base allows the security archive only), so the
// packages the daily timer would take, then refuses to end with any still pending.
//
// Services whose processes still map a deleted (replaced) shared library are restarted, except the
// ones the role names for a scheduled window: those are listed "restart needed", never restarted.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { common, resourceParts, type Delta } from './common.js';
import { LISTS_MAX_AGE_HOURS, LISTS_STATE, REFRESH_LISTS_IF_STALE } from './apt.js';

export interface SecurityUpdatesOptions extends ResourceCommon {
  /** the Label of the security archive's Release file (Debian: "Debian-Security") */
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
  /** when the package lists were last refreshed (epoch seconds; null: no refresh known) and whether that is too long ago */
  lists: { refreshed: number | null; stale: boolean };
  pending: SecurityUpdate[];
  /** units running on a replaced library now */
  onReplaced: string[];
}

const UNIT = /^[A-Za-z0-9@._:-]+\.service$/;
/**
 * Never restarted by apply, whatever the role says (needrestart's own exclusions): restarting D-Bus
 * or logind breaks the running system's sessions and services. Listed "restart needed" instead.
 */
const NEVER_RESTARTED = ['dbus.service', 'systemd-logind.service'];

const DELETED_LIB = `'\\.so[.0-9]* \\(deleted\\)$'`;
/**
 * The services whose MAIN process (systemd's MainPID) maps a deleted shared library (replaced by an
 * upgrade). Only the main process: after ssh.service restarts, each open session's sshd still maps
 * the old library for as long as the session lasts, and no restart changes that.
 */
const ON_REPLACED = [
  `on_units=$(for m in /proc/[0-9]*/maps; do`,
  `  grep -qE ${DELETED_LIB} "$m" 2>/dev/null || continue`,
  `  sed -n 's|^0::/system\\.slice/\\([^/]*\\.service\\).*|\\1|p' "\${m%/maps}/cgroup" 2>/dev/null`,
  `done | sort -u)`,
  `if [ -n "$on_units" ]; then`,
  `  systemctl show -p Id -p MainPID -- $on_units 2>/dev/null |`,
  `  awk -F= '$1=="Id"{u=$2} $1=="MainPID"{p=$2} /^$/{if(u!=""&&p>0)print u, p; u="";p=""} END{if(u!=""&&p>0)print u, p}' |`,
  `  while read -r u p; do grep -qE ${DELETED_LIB} "/proc/$p/maps" 2>/dev/null && echo "$u"; done | sort -u`,
  `fi`,
].join('\n');

/** sh printing "pkg NAME INSTALLED NEWER" for each installed, not held package the security lists have newer */
const pendingScript = (label: string): string =>
  [
    `sec_arch=$(dpkg --print-architecture); sec_lists=''`,
    `for r in /var/lib/apt/lists/*Release; do`,
    `  case $r in *_InRelease) ;; *_Release) [ -e "\${r%_Release}_InRelease" ] && continue ;; *) continue ;; esac`,
    `  grep -qx ${sh(`Label: ${label}`)} "$r" || continue`,
    `  p=\${r%_InRelease}; p=\${p%_Release}`,
    `  for f in "$p"_*_binary-"$sec_arch"_Packages*; do [ -f "$f" ] && sec_lists="$sec_lists $f"; done`,
    `done`,
    `if [ -n "$sec_lists" ]; then`,
    // apt-helper reads every compression apt may keep lists in
    `  { for f in $sec_lists; do /usr/lib/apt/apt-helper cat-file "$f"; done; echo '@@installed'; dpkg-query -W -f='\${db:Status-Abbrev} \${Package} \${Version}\\n'; } |`,
    `  awk '$0=="@@installed"{i=1;next} !i&&/^Package: /{p=$2} !i&&/^Version: /{v[p]=$2} i&&$1=="ii"&&($2 in v)&&v[$2]!=$3{print $2, $3, v[$2]}' |`,
    `  while read -r n a b; do dpkg --compare-versions "$a" lt "$b" && printf 'pkg %s %s %s\\n' "$n" "$a" "$b"; done`,
    `fi`,
  ].join('\n');

const when = (epoch: number): string => `${new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function securityUpdates(opts: SecurityUpdatesOptions): Resource<SecurityUpdatesState> {
  const type = 'security-updates';
  const label = opts?.label;
  if (typeof label !== 'string' || !/^[A-Za-z0-9._-]+$/.test(label)) throw new ResourceError(`${type}: label must be an apt label like Debian-Security, got ${JSON.stringify(label)}`);
  const own = opts.scheduledRestart ?? [];
  for (const u of own) if (!UNIT.test(u)) throw new ResourceError(`${type}:${label}: scheduledRestart entry ${JSON.stringify(u)} is not a .service unit name`);
  const c = common(type, label, opts);
  const pending = pendingScript(label);
  const scheduled = [...new Set([...own, ...NEVER_RESTARTED])];

  const probe = (): string =>
    [LISTS_STATE, `printf 'lists %s %s\\n' "\${lists_at:-none}" "\${lists_stale:-fresh}"`, pending, `${ON_REPLACED} | sed 's/^/unit /'`].join('\n');

  const parse = (stdout: string): SecurityUpdatesState => {
    const s: SecurityUpdatesState = { lists: { refreshed: null, stale: true }, pending: [], onReplaced: [] };
    for (const line of stdout.split('\n')) {
      const w = line.split(' ');
      if (w[0] === 'lists' && w.length === 3) s.lists = { refreshed: /^[0-9]+$/.test(w[1]!) ? Number(w[1]) : null, stale: w[2] !== 'fresh' };
      else if (w[0] === 'unit' && w.length === 2 && UNIT.test(w[1]!)) s.onReplaced.push(w[1]!);
      else if (w[0] === 'pkg' && w.length === 4) s.pending.push({ name: w[1]!, from: w[2]!, to: w[3]! });
    }
    return s;
  };

  const restarts = (units: string[]) => units.filter((u) => !scheduled.includes(u));

  const delta = (s: SecurityUpdatesState): Delta | null => {
    const r = restarts(s.onReplaced);
    // only a scheduled restart outstanding: nothing apply would do
    if (!s.lists.stale && s.pending.length === 0 && r.length === 0) return null;
    const listed = s.pending.map((p) => `${p.name} ${p.from} → ${p.to}`);
    const age = s.lists.refreshed === null ? 'no refresh known' : `refreshed ${when(s.lists.refreshed)}`;
    const parts: string[] = [];
    if (s.lists.stale) {
      parts.push(`refresh the package lists (${age}; stale after ${LISTS_MAX_AGE_HOURS} h or a source change), then install the security updates they list (unattended-upgrade)`);
      if (listed.length) parts.push(`pending in the old lists: ${listed.length}`);
    } else if (listed.length) {
      parts.push(`${listed.length} security update${listed.length === 1 ? '' : 's'}: ${listed.join(', ')} (unattended-upgrade; package lists ${age})`);
    }
    if (r.length) parts.push(`restart ${r.join(', ')} (running on replaced libraries)`);
    if (s.lists.stale || listed.length) parts.push('then restart the services left running on replaced libraries');
    const needed = s.onReplaced.filter((u) => scheduled.includes(u));
    if (own.length || needed.length) parts.push(`never restarted here, listed "restart needed" for a scheduled window: ${[...new Set([...own, ...needed])].join(', ')}`);
    return { action: 'update', summary: parts.join('; '), ...(listed.length ? { diff: listed.map((l) => `+ ${l}`).join('\n') } : {}) };
  };

  const apply = (s: SecurityUpdatesState): string => {
    const install = s.lists.stale || s.pending.length > 0;
    const lists = s.lists.stale
      ? [REFRESH_LISTS_IF_STALE]
      : [
          // fresh lists: the ones the plan read, or the plan is out of date (the timer ran since)
          LISTS_STATE,
          `[ "\${lists_at:-none}" = ${sh(String(s.lists.refreshed))} ] || { echo "the package lists were refreshed since the plan read them (apt's daily timer or another run): plan again" >&2; exit 1; }`,
        ];
    return [
      'export DEBIAN_FRONTEND=noninteractive',
      ...(install
        ? [
            ...lists,
            // unattended-upgrade's own selection: its Origins-Pattern (base allows the security archive only)
            'unattended-upgrade || exit 1',
            // nothing from the security archive may remain pending (held back, a dependency failed)
            `left=$( { ${pending}\n} | cut -d' ' -f2 | tr '\\n' ' ')`,
            `[ -z "$left" ] || { echo "security updates still pending after unattended-upgrade: $left" >&2; exit 1; }`,
          ]
        : []),
      `for u in $( ${ON_REPLACED}\n); do`,
      `  case " ${scheduled.join(' ')} " in *" $u "*) echo "restart needed: $u (running on a replaced library; restarted in a scheduled window)"; continue;; esac`,
      `  systemctl restart -- "$u" || exit 1`,
      'done',
    ].join('\n');
  };

  return { ...c, ...resourceParts(c, { probe, parse, delta, apply }) };
}
