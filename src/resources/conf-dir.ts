// confDir: a directory of configuration a program reads as a whole (sshd_config.d, sudoers.d),
// where provision owns some files and nobody else may add any. Every file the program reads that
// is neither provision's (`own`) nor tolerated is a planned change; apply moves it into the
// quarantine folder (./quarantine.ts), runs `check` on the whole configuration (a failure puts the
// files back and fails), and notifies (e.g. reload sshd). Guarded (sshd, sudo): the lockout guard's
// restore puts the moved files back.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, common, requireAbsPath, requireOneLine, resourceParts, type Delta } from './common.js';
import { ProbeOutput } from './probe-output.js';
import { foreignDiff, foreignNames, foreignProbe, movesFile, parseForeign, quarantineScript, unquarantineScript, type ForeignFile } from './quarantine.js';

/**
 * Which names the program reads: `conf` — `*.conf` (sshd's `Include sshd_config.d/*.conf`);
 * `sudoers` — sudo's @includedir: every name without a dot that does not end in `~`.
 */
export type ConfDirReads = 'conf' | 'sudoers';

export interface ConfDirOptions extends ResourceCommon {
  path: string;
  reads: ConfDirReads;
  /** base names of the files provision writes there (their own resources write them) */
  own: string[];
  /** base names the role accepts from others (e.g. Debian's sudoers.d/README): left alone */
  tolerate?: string[];
  /** sh checking the whole configuration once the foreign files are gone (e.g. `visudo -c -q`) */
  check?: string;
  /** what the role requires for a setting a foreign file sets (a line of it) — for the diff only */
  requires?: (line: string) => string | undefined;
  /** the program's name in the diff: "sshd_config.d file 05-x.conf sets …" */
  label?: string;
}

export interface ConfDirState {
  foreign: ForeignFile[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;

export function confDir(opts: ConfDirOptions): Resource<ConfDirState> {
  const type = 'conf-dir';
  const dir = requireAbsPath(type, opts?.path, 'path', opts?.path);
  if (opts.reads !== 'conf' && opts.reads !== 'sudoers') throw new ResourceError(`${type}:${dir}: reads must be 'conf' or 'sudoers', got ${JSON.stringify(opts.reads)}`);
  const names = (field: string, list: unknown): string[] => {
    if (!Array.isArray(list)) throw new ResourceError(`${type}:${dir}: ${field} must be a list of file names`);
    return list.map((n) => {
      const s = requireOneLine(type, dir, field, n);
      if (!NAME.test(s)) throw new ResourceError(`${type}:${dir}: ${field} entry ${JSON.stringify(s)} is not a plain file name`);
      return s;
    });
  };
  const own = names('own', opts.own);
  const tolerate = names('tolerate', opts.tolerate ?? []);
  const c = common(type, dir, opts, { supported: true });
  const label = opts.label ?? dir;
  const moves = movesFile(`dir-${dir}`);

  const loop = opts.reads === 'conf' ? `for f in ${sh(dir)}/*.conf` : `for f in ${sh(dir)}/*`;
  // sudo skips names with a dot or ending in ~: those are not in effect, whoever wrote them
  const sudoSkip = opts.reads === 'sudoers' ? 'case "${f##*/}" in *.*|*~) continue;; esac' : '';
  const probe = (): string => foreignProbe(loop, [...own, ...tolerate], sudoSkip);

  const parse = (stdout: string): ConfDirState => ({ foreign: parseForeign(new ProbeOutput(stdout)) });

  const delta = (s: ConfDirState): Delta | null =>
    s.foreign.length === 0
      ? null
      : {
          action: 'delete',
          summary: `quarantine ${s.foreign.length} file${s.foreign.length > 1 ? 's' : ''} provision did not write in ${dir}: ${foreignNames(s.foreign)}`,
          diff: foreignDiff(s.foreign, `${label} file`, opts.requires ?? (() => undefined)),
        };

  const apply = (s: ConfDirState): string => quarantineScript(s.foreign, moves, opts.check);

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
    ...(c.guard ? { guardPaths: () => [], guardRestore: () => asApply(unquarantineScript(moves)) } : {}),
  };
}
