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

/** apt-get update runs when this stamp is missing, older than an hour, or older than the sources. */
const UPDATE_STAMP = `${STATE_DIR}/apt-updated`;
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120';

const updateIfStale = [
  `if [ -z "$(find ${UPDATE_STAMP} -mmin -60 2>/dev/null)" ] \\`,
  `  || [ -n "$(find /etc/apt/sources.list /etc/apt/sources.list.d -newer ${UPDATE_STAMP} 2>/dev/null | head -n1)" ] \\`,
  `  || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -n1)" ]; then`,
  seq(`${APT} update`, `mkdir -p ${STATE_DIR}`, `touch ${UPDATE_STAMP}`),
  `fi`,
].join('\n');

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
    return seq(repair, updateIfStale, `${APT} ${keep} install -y --no-install-recommends ${shArgs(todo)}`);
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
