// systemdUnit: a unit file in /etc/systemd/system, written atomically, followed by daemon-reload.
// Also converges "the file is right but systemd still runs the old one" (NeedDaemonReload=yes), and
// checks the unit IN EFFECT: the hardening properties the file sets, as systemd reports them
// (`systemctl show`), and its drop-ins (DropInPaths). A drop-in provision did not write (and the
// role does not tolerate) is a planned change: apply moves it into the quarantine folder
// (./quarantine.ts) and daemon-reloads; the convergence check then compares the properties again.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, asProbe, common, refuseSecret, requireOneLine, requirePresence, seq, toChange, type Delta, type Presence } from './common.js';
import { foreignDiff, foreignNames, foreignProbe, movesFile, parseForeign, quarantineScript, unquarantineScript, type ForeignFile } from './quarantine.js';
import { fieldLines, fieldSummary, joinDiff, type FieldChange } from './render-diff.js';
import { absentDelta, fileProbe, parseFileState, presentDelta, removeScript, writeScript, type FileState, type ManagedFile } from './managed-file.js';
import { toContent } from './file.js';
import { ProbeOutput } from './probe-output.js';

export interface SystemdUnitOptions extends ResourceCommon {
  /** e.g. "drand.service", "drand-relay@.service", "snapshot.timer" */
  name: string;
  content?: string;
  state?: Presence;
  /** drop-ins the role accepts (base names like "10-limits.conf", or absolute paths): never quarantined */
  tolerateDropIns?: string[];
}

export interface SystemdUnitState extends FileState {
  /** systemd loaded an older version of the file */
  needsReload?: boolean;
  /** the compared properties as `systemctl show` reports them (only when the unit file exists) */
  props?: Record<string, string>;
  /** drop-ins neither provision's nor tolerated */
  foreign?: ForeignFile[];
}

/**
 * [Service] settings compared in effect: what a foreign drop-in would use to run a daemon as
 * another user or with its sandbox off. Each shows in `systemctl show` as written in the unit file
 * (checked on Debian 12, systemd 252); a setting given twice in the file is not compared.
 */
export const COMPARED = [
  'User', 'Group', 'DynamicUser', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices',
  'PrivateNetwork', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups',
  'ProtectClock', 'ProtectHostname', 'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality', 'MemoryDenyWriteExecute', 'UMask',
] as const;

/** The compared settings of a unit file, plus ExecStart's argv when it is plain (no quotes, specifiers or variables). */
export function unitSettings(content: string): Record<string, string> {
  const seen = new Map<string, string[]>();
  let section = '';
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    const m = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (section !== '[Service]' || !m) continue;
    seen.set(m[1]!, [...(seen.get(m[1]!) ?? []), m[2]!]);
  }
  const out: Record<string, string> = {};
  for (const k of COMPARED) {
    const v = seen.get(k);
    if (v?.length === 1) out[k] = v[0]!;
  }
  const exec = seen.get('ExecStart');
  if (exec?.length === 1 && !/["'%$\\]/.test(exec[0]!)) out['ExecStart'] = exec[0]!.replace(/^[-@:+!]+/, '').split(/\s+/).join(' ');
  return out;
}

/** ExecStart as `systemctl show` gives it ({ path=… ; argv[]=… ; ignore_errors=… ; … }): the argv (the probe already cuts it so). */
export const execArgv = (shown: string): string => /argv\[\]=(.*?) ; ignore_errors=/.exec(shown)?.[1] ?? shown;

const UNIT_NAME = /^[A-Za-z0-9_:][A-Za-z0-9_:.@\\-]*\.(service|socket|timer|target|path|mount|automount|swap|slice)$/;

/** Also used by service(): a unit name that is safe as a file name and never read as an option. */
export function requireUnitName(type: string, name: unknown, suffixRequired: boolean): string {
  const ok =
    typeof name === 'string' &&
    name.length <= 255 &&
    (suffixRequired ? UNIT_NAME.test(name) : /^[A-Za-z0-9_:][A-Za-z0-9_:.@\\-]*$/.test(name));
  if (!ok) throw new ResourceError(`${type}:${String(name)}: not a valid systemd unit name${suffixRequired ? ' (with its .service/.timer/… suffix)' : ''}`);
  return name;
}

export const DAEMON_RELOAD = 'systemctl daemon-reload';

export function systemdUnit(opts: SystemdUnitOptions): Resource<SystemdUnitState> {
  const type = 'systemd-unit';
  const name = requireUnitName(type, opts?.name, true);
  const state = requirePresence(type, name, opts.state);
  refuseSecret(`${type}:${name}`, opts, 'unit files are world-readable: point EnvironmentFile= or LoadCredential= at a 0600 file');
  const c = common(type, name, opts, { supported: true });
  if (state === 'present' && typeof opts.content !== 'string') throw new ResourceError(`${c.id}: content is required`);
  const spec: ManagedFile = {
    path: `/etc/systemd/system/${name}`,
    content: state === 'present' ? toContent(type, name, opts.content) : undefined,
    owner: 'root',
    group: 'root',
    mode: '0644',
    sensitive: c.sensitive,
  };

  const tolerated = (opts.tolerateDropIns ?? []).map((t) => requireOneLine(type, name, 'tolerateDropIns', t));
  const want = state === 'present' && spec.content ? unitSettings(spec.content.toString('utf8')) : {};
  const shown = ['NeedDaemonReload', 'DropInPaths', ...Object.keys(want)].join(',');
  const moves = movesFile(`unit-${name}`);

  // ONE systemctl per unit, only when the file exists; its Key=value lines are told apart from the
  // file probe's lowercase records by their capital letter.
  const probe = (): string =>
    state === 'absent'
      ? fileProbe(spec)
      : [
          fileProbe(spec),
          `if [ "$k" = file ]; then`,
          `o=$(systemctl show -p ${shown} -- ${sh(name)} 2>/dev/null); d=`,
          // ExecStart also carries the last run (start_time, pid…): only its argv is printed, so a
          // restart does not change the probed state (and a saved plan's fingerprint)
          `while IFS= read -r l; do case "$l" in`,
          `  DropInPaths=*) d=\${l#DropInPaths=}; printf '%s\\n' "$l";;`,
          `  ExecStart=*) a=\${l#*'argv[]='}; printf 'ExecStart=%s\\n' "\${a%%' ; ignore_errors='*}";;`,
          `  *) printf '%s\\n' "$l";;`,
          `esac; done <<__PROVISION_EOF__`,
          `$o`,
          `__PROVISION_EOF__`,
          foreignProbe('for f in $d', tolerated),
          `fi`,
        ].join('\n');

  const parse = (stdout: string): SystemdUnitState => {
    const out = new ProbeOutput(stdout);
    const s: SystemdUnitState = parseFileState(out);
    const props: Record<string, string> = {};
    for (const line of stdout.split('\n')) {
      const m = /^([A-Z][A-Za-z]+)=(.*)$/.exec(line);
      if (m) props[m[1]!] = m[2]!;
    }
    if (props['NeedDaemonReload'] === 'yes') s.needsReload = true;
    const compared = Object.fromEntries(Object.keys(want).filter((k) => k in props).map((k) => [k, k === 'ExecStart' ? execArgv(props[k]!) : props[k]!]));
    if (Object.keys(compared).length) s.props = compared;
    const foreign = parseForeign(out);
    if (foreign.length) s.foreign = foreign;
    return s;
  };

  /** the compared properties systemd runs with that differ from the file's (only meaningful once the file is loaded) */
  const propChanges = (s: SystemdUnitState): FieldChange[] =>
    s.props ? Object.entries(want).filter(([k, v]) => s.props![k] !== undefined && s.props![k] !== v).map(([k, v]) => ({ field: k, from: s.props![k]!, to: v })) : [];

  const delta = (s: SystemdUnitState): Delta | null => {
    if (state === 'absent') return absentDelta(spec, s);
    const foreign = s.foreign ?? [];
    const q = foreign.length
      ? {
          summary: `quarantine foreign drop-in${foreign.length > 1 ? 's' : ''} ${foreignNames(foreign)} of ${name}`,
          diff: foreignDiff(foreign, 'drop-in', (l) => {
            const m = /^([A-Za-z]+)\s*=/.exec(l.trim());
            return m && want[m[1]!] !== undefined ? `${m[1]}=${want[m[1]!]}` : undefined;
          }),
        }
      : undefined;
    const d = presentDelta(spec, s);
    const fields = d === null && !s.needsReload ? propChanges(s) : [];
    const inEffect = fields.length ? { summary: `in effect ${fieldSummary(fields)}`, diff: fieldLines(fields) } : undefined;
    const parts = [
      ...(d ? [{ summary: `${d.summary}, daemon-reload`, diff: d.diff }] : []),
      ...(q ? [q] : []),
      ...(inEffect ? [inEffect] : []),
    ];
    if (!d && !q && !inEffect) return s.needsReload ? { action: 'update', summary: `daemon-reload: ${name} changed on disk since systemd loaded it` } : null;
    if (!d && q && !inEffect) parts.push({ summary: 'daemon-reload', diff: undefined });
    return { action: d?.action ?? 'update', summary: parts.map((p) => p.summary).join('; '), diff: joinDiff(...parts.map((p) => p.diff)) };
  };

  const apply = (s: SystemdUnitState): string =>
    asApply(
      seq(
        s.foreign?.length ? quarantineScript(s.foreign, moves) : undefined,
        state === 'present' ? writeScript(spec, s) : removeScript(spec.path),
        DAEMON_RELOAD,
      ),
    );

  return {
    ...c,
    probe: () => asProbe(probe()),
    parse,
    diff: (s) => toChange(c, delta(s)),
    apply,
    ...(c.guard ? { guardPaths: () => [spec.path], guardRestore: () => asApply(seq(unquarantineScript(moves), DAEMON_RELOAD)) } : {}),
  };
}
