// apt: Debian packages installed (only the missing ones are installed) or removed.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { shArgs } from '../shell/quote.js';
import { asApply, asProbe, common, requirePresence, seq, STATE_DIR, toChange, type Delta, type Presence } from './common.js';

export interface AptOptions extends ResourceCommon {
  /** package names (not virtual packages: dpkg never reports those as installed) */
  name: string | string[];
  state?: Presence;
}

export interface AptState {
  /** the packages of this resource that dpkg reports as installed */
  installed: string[];
  /** a dpkg run was cut ("dpkg was interrupted"): apt refuses to install until `dpkg --configure -a` */
  interrupted?: boolean;
}

/**
 * When package lists are refreshed: ONE rule, shared by every resource that reads or refreshes them
 * (apt installs, security-updates), so a plan and its apply read the same lists. Lists count as
 * fresh when apt's daily timer (its update-stamp) or provision (its own stamp) refreshed them less
 * than LISTS_MAX_AGE_HOURS ago, no apt source file changed since (an empty one, as apt's own
 * upgrade creates, adds no source), and some Packages list exists. The
 * daily timer refreshes at most once a day at a random time (apt-daily.timer: 6:00/18:00 + up to
 * 12 h), so a healthy host never goes stale; a fresh image, a dead timer or a new source does.
 */
export const LISTS_MAX_AGE_HOURS = 48;
const UPDATE_STAMP = `${STATE_DIR}/apt-updated`;
const APT_STAMP = '/var/lib/apt/periodic/update-stamp';
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120';

/** sh setting $lists_at (epoch of the last known refresh, empty: none) and $lists_stale ('stale' or empty) */
export const LISTS_STATE = [
  `lists_ref=$(ls -t ${UPDATE_STAMP} ${APT_STAMP} 2>/dev/null | head -n1); lists_at=''; lists_stale=stale`,
  `if [ -n "$lists_ref" ]; then`,
  `  lists_at=$(stat -c %Y "$lists_ref")`,
  `  if [ -n "$(find "$lists_ref" -mmin -${LISTS_MAX_AGE_HOURS * 60} 2>/dev/null)" ] \\`,
  `    && [ -z "$(find /etc/apt/sources.list /etc/apt/sources.list.d -newer "$lists_ref" -type f ! -empty 2>/dev/null | head -n1)" ] \\`,
  `    && [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -n1)" ]; then lists_stale=''; fi`,
  `fi`,
].join('\n');

/** sh refreshing the package lists now, stamped */
const REFRESH_LISTS = seq(`${APT} update`, `mkdir -p ${STATE_DIR}`, `touch ${UPDATE_STAMP}`);

/** sh refreshing the package lists when the rule above says they are stale */
export const REFRESH_LISTS_IF_STALE = [LISTS_STATE, 'if [ -n "$lists_stale" ]; then', REFRESH_LISTS, 'fi'].join('\n');

export function apt(opts: AptOptions): Resource<AptState> {
  const type = 'apt';
  const names = typeof opts?.name === 'string' ? [opts.name] : opts?.name;
  if (!Array.isArray(names) || names.length === 0) throw new ResourceError(`${type}: name must be a package name or a non-empty list of them`);
  for (const n of names) {
    if (typeof n !== 'string' || !/^[a-z0-9][a-z0-9+.-]+$/.test(n)) {
      throw new ResourceError(`${type}:${names.join(',')}: ${JSON.stringify(n)} is not a Debian package name`);
    }
  }
  if (new Set(names).size !== names.length) throw new ResourceError(`${type}:${names.join(',')}: a package is listed twice`);
  const state = requirePresence(type, names.join(','), opts.state);
  const c = common(type, names.join(','), opts);

  const parse = (stdout: string): AptState => {
    // "<package> <want> <flag> <status>": installed means status "installed" (held packages too)
    const installed = new Set(
      stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((w) => w.length === 4 && w[3] === 'installed')
        .map((w) => w[0] as string),
    );
    return { installed: names.filter((n) => installed.has(n)), ...(/^!interrupted$/m.test(stdout) ? { interrupted: true } : {}) };
  };

  const pending = (s: AptState): string[] =>
    state === 'present' ? names.filter((n) => !s.installed.includes(n)) : names.filter((n) => s.installed.includes(n));

  const delta = (s: AptState): Delta | null => {
    const todo = pending(s);
    if (s.interrupted) {
      const then = todo.length ? `, then ${state === 'present' ? 'install' : 'remove'} ${todo.join(', ')}` : '';
      return { action: 'run', summary: `dpkg was interrupted: dpkg --configure -a${then}`, diff: ['> dpkg --configure -a', ...todo.map((n) => `${state === 'present' ? '+' : '-'} ${n}`)].join('\n') };
    }
    if (todo.length === 0) return null;
    return state === 'present'
      ? { action: 'create', summary: `install ${todo.join(', ')}`, diff: todo.map((n) => `+ ${n}`).join('\n') }
      : { action: 'delete', summary: `remove ${todo.join(', ')}`, diff: todo.map((n) => `- ${n}`).join('\n') };
  };

  // keep the local version of a changed conffile (the file resources own it), never prompt
  const keep = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
  const apply = (s: AptState): string => {
    const todo = pending(s);
    // A cut install is finished first (what apt itself asks for), under apt's lock timeout.
    const repair = s.interrupted ? 'DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold --configure -a' : undefined;
    if (todo.length === 0) return seq(repair);
    if (state === 'absent') return seq(repair, `${APT} remove -y ${shArgs(todo)}`);
    const install = `${APT} ${keep} install -y --no-install-recommends ${shArgs(todo)}`;
    // lists up to LISTS_MAX_AGE_HOURS old may name a version the archive has dropped: refresh, once
    return seq(repair, REFRESH_LISTS_IF_STALE, `${install} || {\n${REFRESH_LISTS}\n${install}\n}`);
  };

  return {
    ...c,
    // dpkg leaves files in updates/ while it works: left behind, dpkg was interrupted (no fork to see it)
    probe: () => asProbe(`dpkg-query -W -f='\${Package} \${Status}\\n' -- ${shArgs(names)} 2>/dev/null\nfor f in /var/lib/dpkg/updates/*; do [ -e "$f" ] && echo '!interrupted'; break; done`),
    parse,
    diff: (s) => toChange(c, delta(s)),
    apply: (s) => asApply(apply(s)),
  };
}
