// group: a local group exists (or not), with at least the given members. A user's exact set of
// groups is the user resource's business; `members` only adds (an account the role does not manage
// as a user, e.g. the controller's login account joining base's ssh-users).
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh, shArgs } from '../shell/quote.js';
import { asApply, asProbe, common, requireAccount, requireBoolean, requirePresence, seq, toChange, type Delta, type Presence } from './common.js';
import { ACCOUNT_FILES, commaList, getentFields, requireNewAccountName } from './accounts.js';
import { ProbeOutput } from './probe-output.js';

export interface GroupOptions extends ResourceCommon {
  name: string;
  /** a system group (gid from the system range); only used when creating it */
  system?: boolean;
  /** accounts that must be members (listed in /etc/group); other members are left alone */
  members?: string[];
  state?: Presence;
}

export interface GroupState {
  exists: boolean;
  gid?: number;
  members?: string[];
}

export function group(opts: GroupOptions): Resource<GroupState> {
  const type = 'group';
  const name = requireNewAccountName(type, opts?.name);
  const state = requirePresence(type, name, opts.state);
  const system = requireBoolean(type, name, 'system', opts.system) ?? false;
  if (opts.members !== undefined && !Array.isArray(opts.members)) throw new ResourceError(`${type}:${name}: members must be a list`);
  const members = [...new Set((opts.members ?? []).map((m) => requireAccount(type, name, 'members', m)))];
  if (state === 'absent' && members.length) throw new ResourceError(`${type}:${name}: a group to remove has no members to add`);
  const c = common(type, name, opts, { supported: true });
  /** the wanted members it does not list yet */
  const missing = (s: GroupState): string[] => members.filter((m) => !(s.members ?? []).includes(m));

  const parse = (stdout: string): GroupState => {
    const f = getentFields(new ProbeOutput(stdout).get('group'));
    if (!f) return { exists: false };
    return { exists: true, gid: Number(f[2]), members: commaList(f[3]) };
  };

  const delta = (s: GroupState): Delta | null => {
    const add = missing(s);
    const withMembers = add.length ? ` with member${add.length > 1 ? 's' : ''} ${add.join(', ')}` : '';
    const memberLines = add.map((m) => `+ member ${m}`);
    if (state === 'present' && !s.exists) {
      return { action: 'create', summary: `create ${system ? 'system ' : ''}group ${name}${withMembers}`, diff: [`+ group ${name}`, ...memberLines].join('\n') };
    }
    if (state === 'absent' && s.exists) return { action: 'delete', summary: `remove group ${name}`, diff: `- group ${name} (gid ${s.gid})` };
    if (add.length) return { action: 'update', summary: `add ${add.join(', ')} to group ${name}`, diff: memberLines.join('\n') };
    return null;
  };

  return {
    ...c,
    probe: () => asProbe(`if e=$(getent group ${sh(name)}); then printf 'group %s\\n' "$e"; fi`),
    parse,
    diff: (s) => toChange(c, delta(s)),
    apply: (s) =>
      asApply(
        seq(
          state === 'absent' ? s.exists && shArgs(['groupdel', '--', name]) : !s.exists && shArgs(['groupadd', ...(system ? ['--system'] : []), '--', name]),
          ...(state === 'present' ? missing(s).map((m) => shArgs(['usermod', '--append', '--groups', name, '--', m])) : []),
        ),
      ),
    ...(c.guard ? { guardPaths: () => [...ACCOUNT_FILES] } : {}),
  };
}
