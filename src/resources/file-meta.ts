// What is at a path (kind, owner, group, mode, size): probed with test(1) and stat(1), shared by
// file, directory, systemd units, sysctl and nftables.
import path from 'node:path';
import { sh } from '../shell/quote.js';
import { chmodArg, normalizeMode, seq } from './common.js';
import type { ProbeOutput } from './probe-output.js';
import type { FieldChange } from './render-diff.js';

export type Kind = 'missing' | 'file' | 'dir' | 'link' | 'other';

export interface Meta {
  kind: Kind;
  /** names as stat prints them ("UNKNOWN" when the id has no name) */
  owner?: string;
  group?: string;
  uid?: number;
  gid?: number;
  /** 4 octal digits */
  mode?: string;
  size?: number;
  /** only for kind "missing": the parent directory does not exist either */
  parentMissing?: boolean;
}

export interface Ownership {
  owner: string;
  group: string;
  mode: string;
}

/**
 * sh that sets `p` to the path and prints `kind K`, then `stat OWNER GROUP UID GID MODE SIZE` for a
 * file or directory, or `noparent` when neither the path nor its parent exists. With `follow`, a
 * symlink is judged by its target (directories); without, a symlink is kind `link` (files).
 */
export function metaProbe(p: string, follow = false): string {
  const tests = follow
    ? `if [ -f "$p" ]; then k=file; elif [ -d "$p" ]; then k=dir; elif [ -L "$p" ] || [ -e "$p" ]; then k=other; else k=missing; fi`
    : `if [ -L "$p" ]; then k=link; elif [ -f "$p" ]; then k=file; elif [ -d "$p" ]; then k=dir; elif [ -e "$p" ]; then k=other; else k=missing; fi`;
  return [
    `p=${sh(p)}`,
    tests,
    `echo "kind $k"`,
    `case $k in`,
    // kept in $st: a file's probe compares its size (the last field) before reading it
    `  file|dir) st=$(stat ${follow ? '-L ' : ''}-c 'stat %U %G %u %g %a %s' -- "$p") && printf '%s\\n' "$st" ;;`,
    `  missing) [ -d ${sh(path.posix.dirname(p))} ] || echo noparent ;;`,
    `esac`,
  ].join('\n');
}

export function parseMeta(out: ProbeOutput): Meta {
  const kind = (out.get('kind') ?? 'missing') as Kind;
  if (!['missing', 'file', 'dir', 'link', 'other'].includes(kind)) throw new Error(`unexpected probe output: kind ${kind}`);
  const meta: Meta = { kind };
  const stat = out.get('stat')?.split(' ');
  if (stat && stat.length === 6) {
    const [owner, group, uid, gid, mode, size] = stat as [string, string, string, string, string, string];
    Object.assign(meta, { owner, group, uid: Number(uid), gid: Number(gid), mode: normalizeMode(mode), size: Number(size) });
  }
  if (kind === 'missing') meta.parentMissing = out.has('noparent');
  return meta;
}

const nameOrId = (name: string | undefined, id: number | undefined): string =>
  name !== undefined && name !== 'UNKNOWN' ? name : String(id ?? '?');

/** A desired owner matches by name, or by number when it is given as a number. */
const accountMatches = (want: string, name: string | undefined, id: number | undefined): boolean =>
  /^[0-9]+$/.test(want) ? Number(want) === id : want === name;

/** owner/group and mode differences between what is there and what is wanted */
export function ownershipChanges(meta: Meta, want: Ownership): FieldChange[] {
  const changes: FieldChange[] = [];
  if (!accountMatches(want.owner, meta.owner, meta.uid) || !accountMatches(want.group, meta.group, meta.gid)) {
    changes.push({
      field: 'owner',
      from: `${nameOrId(meta.owner, meta.uid)}:${nameOrId(meta.group, meta.gid)}`,
      to: `${want.owner}:${want.group}`,
    });
  }
  if (meta.mode !== want.mode) changes.push({ field: 'mode', from: meta.mode ?? '?', to: want.mode });
  return changes;
}

/** sh commands setting owner, group and mode of `target` (an sh word: "$t", "$p"); chown first, it clears setuid bits */
export const ownershipCommands = (target: string, want: Ownership): string[] => [
  `chown -- ${sh(`${want.owner}:${want.group}`)} ${target}`,
  `chmod -- ${chmodArg(want.mode)} ${target}`,
];

export const setOwnershipScript = (target: string, want: Ownership): string => seq(...ownershipCommands(target, want));
