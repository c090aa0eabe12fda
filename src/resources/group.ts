// group: a local group exists (or not). Membership is the user resource's business.
import type { Resource, ResourceCommon } from './types.js';
import { sh, shArgs } from '../shell/quote.js';
import { asApply, asProbe, common, requireBoolean, requirePresence, seq, toChange, type Delta, type Presence } from './common.js';
import { ACCOUNT_FILES, commaList, getentFields, requireNewAccountName } from './accounts.js';
import { ProbeOutput } from './probe-output.js';

export interface GroupOptions extends ResourceCommon {
  name: string;
  /** a system group (gid from the system range); only used when creating it */
  system?: boolean;
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
  const c = common(type, name, opts, { supported: true });

  const parse = (stdout: string): GroupState => {
    const f = getentFields(new ProbeOutput(stdout).get('group'));
    if (!f) return { exists: false };
    return { exists: true, gid: Number(f[2]), members: commaList(f[3]) };
  };

  const delta = (s: GroupState): Delta | null => {
    if (state === 'present' && !s.exists) {
      return { action: 'create', summary: `create ${system ? 'system ' : ''}group ${name}`, diff: `+ group ${name}` };
    }
    if (state === 'absent' && s.exists) return { action: 'delete', summary: `remove group ${name}`, diff: `- group ${name} (gid ${s.gid})` };
    return null;
  };

  return {
    ...c,
    probe: () => asProbe(`if e=$(getent group ${sh(name)}); then printf 'group %s\\n' "$e"; fi`),
    parse,
    diff: (s) => toChange(c, delta(s)),
    apply: (s) =>
      asApply(
        seq(delta(s) !== null && shArgs(state === 'present' ? ['groupadd', ...(system ? ['--system'] : []), '--', name] : ['groupdel', '--', name])),
      ),
    ...(c.guard ? { guardPaths: () => [...ACCOUNT_FILES] } : {}),
  };
}
