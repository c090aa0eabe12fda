// user: a local account with home, shell and the exact set of supplementary groups.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh, shArgs } from '../shell/quote.js';
import {
  common,
  requireAbsPath,
  requireAccount,
  requireBoolean,
  requirePresence,
  resourceParts,
  seq,
  type Delta,
  type Presence,
} from './common.js';
import { ACCOUNT_FILES, getentFields, requireNewAccountName } from './accounts.js';
import { ProbeOutput } from './probe-output.js';
import { fieldLines, type FieldChange } from './render-diff.js';

export interface UserOptions extends ResourceCommon {
  name: string;
  /** a system account (uid from the system range); only used when creating it */
  system?: boolean;
  home?: string;
  shell?: string;
  /** supplementary groups, the exact set (the primary group is the user's own) */
  groups?: string[];
  /** create the home directory (0700, owned by the user) when it is missing */
  createHome?: boolean;
  state?: Presence;
}

export interface UserState {
  exists: boolean;
  uid?: number;
  home?: string;
  shell?: string;
  primaryGroup?: string;
  /** supplementary groups (id -nG without the primary group) */
  groups?: string[];
  homeExists?: boolean;
}

export function user(opts: UserOptions): Resource<UserState> {
  const type = 'user';
  const name = requireNewAccountName(type, opts?.name);
  const state = requirePresence(type, name, opts.state);
  const system = requireBoolean(type, name, 'system', opts.system) ?? false;
  const createHome = requireBoolean(type, name, 'createHome', opts.createHome) ?? false;
  const home = opts.home === undefined ? undefined : requireAbsPath(type, name, 'home', opts.home);
  const shell = opts.shell === undefined ? undefined : requireAbsPath(type, name, 'shell', opts.shell);
  if (opts.groups !== undefined && !Array.isArray(opts.groups)) throw new ResourceError(`${type}:${name}: groups must be a list`);
  const groups = opts.groups?.map((g) => requireAccount(type, name, 'groups', g));
  const c = common(type, name, opts, { supported: true });

  const probe = (): string =>
    [
      `u=${sh(name)}`,
      `if e=$(getent passwd "$u"); then`,
      `  printf 'passwd %s\\n' "$e"`,
      // id -nG lists the primary group first: one process for both records
      `  g=$(id -nG "$u"); printf 'primary %s\\ngroups %s\\n' "\${g%% *}" "$g"`,
      // the 6th field is the home directory
      `  h=\${e#*:*:*:*:*:}; [ -d "\${h%%:*}" ] && echo homedir`,
      `fi`,
    ].join('\n');

  const parse = (stdout: string): UserState => {
    const out = new ProbeOutput(stdout);
    const f = getentFields(out.get('passwd'));
    if (!f) return { exists: false };
    const primaryGroup = out.get('primary') ?? '';
    const all = (out.get('groups') ?? '').split(' ').filter((g) => g !== '');
    return {
      exists: true,
      uid: Number(f[2]),
      home: f[5] ?? '',
      shell: f[6] ?? '',
      primaryGroup,
      groups: [...new Set(all.filter((g) => g !== primaryGroup))].sort(),
      homeExists: out.has('homedir'),
    };
  };

  /** the wanted supplementary set, without the primary group (id -nG never lists it twice) */
  const wantGroups = (s: UserState): string[] | undefined =>
    groups && [...new Set(groups.filter((g) => g !== (s.primaryGroup ?? name)))].sort();

  const fieldChanges = (s: UserState): FieldChange[] => {
    const changes: FieldChange[] = [];
    if (home !== undefined && s.home !== home) changes.push({ field: 'home', from: s.home ?? '', to: home });
    if (shell !== undefined && s.shell !== shell) changes.push({ field: 'shell', from: s.shell ?? '', to: shell });
    const want = wantGroups(s);
    if (want && want.join(',') !== (s.groups ?? []).join(',')) {
      changes.push({ field: 'groups', from: (s.groups ?? []).join(',') || '(none)', to: want.join(',') || '(none)' });
    }
    const homeNow = home ?? s.home;
    if (createHome && !s.homeExists && homeNow === s.home) changes.push({ field: 'home directory', from: '(missing)', to: homeNow ?? '' });
    return changes;
  };

  const delta = (s: UserState): Delta | null => {
    if (state === 'absent') return s.exists ? { action: 'delete', summary: `remove user ${name}`, diff: `- user ${name} (uid ${s.uid})` } : null;
    if (!s.exists) {
      const details = [
        ...(system ? ['system'] : []),
        ...(home ? [`home ${home}`] : []),
        ...(shell ? [`shell ${shell}`] : []),
        ...(groups?.length ? [`groups ${groups.join(',')}`] : []),
      ];
      return {
        action: 'create',
        summary: `create user ${name}${details.length ? ` (${details.join(', ')})` : ''}`,
        diff: [`+ user ${name}`, ...details.map((d) => `+ ${d}`)].join('\n'),
      };
    }
    const changes = fieldChanges(s);
    if (changes.length === 0) return null;
    return { action: 'update', summary: `update user ${name}: ${changes.map((x) => x.field).join(', ')}`, diff: fieldLines(changes) };
  };

  const ensureHome = seq(`h=$(getent passwd "$u" | cut -d: -f6)`, `if [ ! -d "$h" ]; then mkdir -m 0700 -- "$h" && chown -- "$u": "$h"; fi`);

  const apply = (s: UserState): string => {
    const u = `u=${sh(name)}`;
    if (state === 'absent') return s.exists ? seq(u, `userdel -- "$u"`) : '';
    if (!s.exists) {
      const args = [
        ...(system ? ['--system'] : []),
        ...(home ? ['--home-dir', home] : []),
        ...(shell ? ['--shell', shell] : []),
        ...(groups?.length ? ['--groups', groups.join(',')] : []),
        createHome ? '--create-home' : '--no-create-home',
      ];
      // The user's own group may already exist (declared by a group resource): join it instead of failing.
      return seq(
        u,
        `if getent group "$u" >/dev/null; then useradd --gid "$u" ${shArgs(args)} -- "$u"; else useradd --user-group ${shArgs(args)} -- "$u"; fi`,
      );
    }
    const args = [
      ...(home !== undefined && s.home !== home ? ['--home', home] : []),
      ...(shell !== undefined && s.shell !== shell ? ['--shell', shell] : []),
      ...(fieldChanges(s).some((x) => x.field === 'groups') ? ['--groups', (wantGroups(s) ?? []).join(',')] : []),
    ];
    return seq(u, args.length > 0 && `usermod ${shArgs(args)} -- "$u"`, createHome && ensureHome);
  };

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
    ...(c.guard ? { guardPaths: () => [...ACCOUNT_FILES] } : {}),
  };
}
