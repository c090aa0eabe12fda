// systemdUnit: a unit file in /etc/systemd/system, written atomically, followed by daemon-reload.
// Also converges "the file is right but systemd still runs the old one" (NeedDaemonReload=yes).
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, asProbe, common, refuseSecret, requirePresence, seq, toChange, type Delta, type Presence } from './common.js';
import { absentDelta, fileProbe, parseFileState, presentDelta, removeScript, writeScript, type FileState, type ManagedFile } from './managed-file.js';
import { toContent } from './file.js';
import { ProbeOutput } from './probe-output.js';

export interface SystemdUnitOptions extends ResourceCommon {
  /** e.g. "drand.service", "drand-relay@.service", "snapshot.timer" */
  name: string;
  content?: string;
  state?: Presence;
}

export interface SystemdUnitState extends FileState {
  /** systemd loaded an older version of the file */
  needsReload?: boolean;
}

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

  const probe = (): string => {
    const reload = `if [ "$k" = file ]; then printf 'reload %s\\n' "$(systemctl show -p NeedDaemonReload --value -- ${sh(name)} 2>/dev/null)"; fi`;
    return state === 'present' ? `${fileProbe(spec)}\n${reload}` : fileProbe(spec);
  };

  const parse = (stdout: string): SystemdUnitState => {
    const out = new ProbeOutput(stdout);
    const s: SystemdUnitState = parseFileState(out);
    if (out.get('reload') === 'yes') s.needsReload = true;
    return s;
  };

  const delta = (s: SystemdUnitState): Delta | null => {
    if (state === 'absent') return absentDelta(spec, s);
    const d = presentDelta(spec, s);
    if (d !== null) return { ...d, summary: `${d.summary}, daemon-reload` };
    return s.needsReload ? { action: 'update', summary: `daemon-reload: ${name} changed on disk since systemd loaded it` } : null;
  };

  return {
    ...c,
    probe: () => asProbe(probe()),
    parse,
    diff: (s) => toChange(c, delta(s)),
    apply: (s) => asApply(seq(state === 'present' ? writeScript(spec, s) : removeScript(spec.path), DAEMON_RELOAD)),
    ...(c.guard ? { guardPaths: () => [spec.path], guardRestore: () => asApply(DAEMON_RELOAD) } : {}),
  };
}
