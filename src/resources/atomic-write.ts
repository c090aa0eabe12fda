// Atomic replacement of a file on the host: the new content goes to a mktemp file in the SAME
// directory (so rename(2) is atomic), gets its owner and mode, is validated, and only then is moved
// over the target. Any failure removes the temp file and fails the script; the target is untouched.
import path from 'node:path';
import { sh } from '../shell/quote.js';
import { fail, seq } from './common.js';
import { ownershipCommands, type Ownership } from './file-meta.js';

export interface AtomicWrite {
  /** the target; absolute. Sets the sh variables p (target), d (its directory) and t (temp file). */
  path: string;
  /** sh that writes the new content to stdout, e.g. shBytes(content); its exit status is the last command's (set -e does not apply inside) */
  produce: string;
  /** owner/group/mode to set, or 'keep' to copy them from the existing target */
  ownership: Ownership | 'keep';
  /** sh run after the temp file is complete, before the move; "$t" is the temp file. Fails → no change. Must be ONE command or a (subshell). */
  beforeMove?: string;
  /** write through a symlink to the file it points to instead of replacing the link (line edits) */
  followSymlink?: boolean;
}

/** Turn a role's validate command ("sshd -t -f %s") into sh checking the temp file. */
export const validateCommand = (command: string): string => `( ${command.split('%s').join('"$t"')} )`;

export function atomicWriteScript(w: AtomicWrite): string {
  const ownership =
    w.ownership === 'keep'
      ? [`chown --reference="$p" -- "$t"`, `chmod --reference="$p" -- "$t"`]
      : ownershipCommands('"$t"', w.ownership);
  // One AND-OR list ending in the cleanup: any failing step removes the temp file and fails.
  const steps = [...ownership, ...(w.beforeMove ? [w.beforeMove] : []), `mv -fT -- "$t" "$p"`];
  const dir = path.posix.dirname(w.path);
  return seq(
    ...(w.followSymlink
      ? [`p=$(readlink -f -- ${sh(w.path)}) || ${fail(`cannot resolve ${w.path}`)}`, `d=$(dirname -- "$p")`]
      : [`p=${sh(w.path)}`, `d=${sh(dir)}`]),
    `if [ ! -d "$d" ]; then ${fail(`cannot write ${w.path}: directory ${dir} does not exist`)}; fi`,
    `if [ -d "$p" ] && [ ! -L "$p" ]; then ${fail(`cannot write ${w.path}: it is a directory`)}; fi`,
    `t=$(mktemp -- "$d/.provision.XXXXXX")`,
    [`{`, w.produce.replace(/\n*$/, ''), `} >"$t" && ${steps.join(' && ')} || { rm -f -- "$t"; ${fail(`could not write ${w.path}`)}; }`].join('\n'),
  );
}
