// directory: exists (or not) with owner and mode. A symlink to a directory counts as the directory
// (operators often move data dirs to another disk that way); parents are never created implicitly.
import path from 'node:path';
import type { Resource, ResourceCommon } from './types.js';
import { sh } from '../shell/quote.js';
import {
  common,
  fail,
  seq,
  asProbe, asApply,
  requireAbsPath,
  requireAccount,
  requireMode,
  requirePresence,
  toChange,
  type Delta,
  type Presence,
} from './common.js';
import { metaProbe, ownershipChanges, parseMeta, setOwnershipScript, type Meta, type Ownership } from './file-meta.js';
import { ProbeOutput } from './probe-output.js';
import { fieldLines, fieldSummary } from './render-diff.js';

export type DirectoryState = Meta;

export interface DirectoryOptions extends ResourceCommon {
  path: string;
  owner?: string;
  group?: string;
  mode?: string;
  /** absent removes the directory WITH its content */
  state?: Presence;
}

export function directory(opts: DirectoryOptions): Resource<DirectoryState> {
  const type = 'directory';
  const p = requireAbsPath(type, opts?.path, 'path', opts?.path);
  const state = requirePresence(type, p, opts.state);
  const c = common(type, p, opts);
  const want: Ownership = {
    owner: requireAccount(type, p, 'owner', opts.owner ?? 'root'),
    group: requireAccount(type, p, 'group', opts.group ?? 'root'),
    mode: requireMode(type, p, opts.mode ?? '0755'),
  };
  const parent = path.posix.dirname(p);

  const delta = (s: DirectoryState): Delta | null => {
    if (state === 'absent') {
      if (s.kind === 'missing') return null;
      return { action: 'delete', summary: s.kind === 'dir' ? `remove directory ${p} and its content` : `remove ${p} (not a directory)` };
    }
    if (s.kind === 'missing') {
      const note = s.parentMissing ? ` (directory ${parent} does not exist yet)` : '';
      return { action: 'create', summary: `create directory ${p} (${want.owner}:${want.group} ${want.mode})${note}` };
    }
    if (s.kind !== 'dir') return { action: 'update', summary: `${p} exists and is not a directory: apply will fail` };
    const fields = ownershipChanges(s, want);
    if (fields.length === 0) return null;
    return { action: 'update', summary: `update directory ${p}: ${fieldSummary(fields)}`, diff: fieldLines(fields) };
  };

  const apply = (s: DirectoryState): string => {
    const set = `p=${sh(p)}`;
    if (state === 'absent') return seq(set, `rm -rf -- "$p"`);
    if (s.kind === 'dir') return seq(set, setOwnershipScript('"$p"', want));
    return seq(
      set,
      `if [ ! -d ${sh(parent)} ]; then ${fail(`cannot create ${p}: directory ${parent} does not exist`)}; fi`,
      // created private, opened up only once it has its owner
      `if [ -e "$p" ] || [ -L "$p" ]; then [ -d "$p" ] || ${fail(`cannot create directory ${p}: something else is there`)}; else mkdir -m 0700 -- "$p"; fi`,
      setOwnershipScript('"$p"', want),
    );
  };

  return {
    ...c,
    probe: () => asProbe(metaProbe(p, true)),
    parse: (stdout) => parseMeta(new ProbeOutput(stdout)),
    diff: (s) => toChange(c, delta(s)),
    apply: (s) => asApply(apply(s)),
  };
}
