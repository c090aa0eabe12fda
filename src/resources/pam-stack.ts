// pamStack: one PAM service's stack as in effect — /etc/pam.d/<service> and every file it includes
// (@include, `include`, `substack`) that the role knows. Each rule line that is not among the lines
// the role accepts for that file (the release's stock lines and the roles' own) is foreign: a
// planned change naming file, line number and rule. Apply keeps a copy of the file as it was in the
// quarantine folder (./quarantine.ts; named in the plan, never overwritten) and removes the foreign
// lines, in place and atomically. Guarded: a failed login test puts the copies back.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, common, requireOneLine, resourceParts, seq, type Delta } from './common.js';
import { ProbeOutput } from './probe-output.js';
import { atomicWriteScript } from './atomic-write.js';
import { movesFile, QUARANTINE_DIR, quarantinePath, unquarantineScript } from './quarantine.js';
import path from 'node:path';

export const PAM_DIR = '/etc/pam.d';

export interface PamStackOptions extends ResourceCommon {
  /** the service, e.g. 'sshd' (/etc/pam.d/sshd) */
  service: string;
  /**
   * file name under /etc/pam.d → the rule lines it may hold (compared with whitespace collapsed and
   * comments cut). The service's own file must be listed; an included file not listed is not read
   * (its include line is foreign unless listed as accepted).
   */
  accept: Record<string, readonly string[]>;
  /** what the accepted lines are, for the diff (e.g. "Debian 13's or a role's") */
  acceptedAs?: string;
}

export interface PamLine {
  number: number;
  /** the line exactly as in the file */
  raw: string;
}

export interface PamFile {
  path: string;
  sha256: string;
  lines: PamLine[];
}

export interface PamStackState {
  files: PamFile[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;
/** a bracket expression's space and tab, from sh variable w (a pattern is not split at its blanks, a literal would be) */
const WS = '$w';

/** A rule as PAM reads it: `#` starts a comment anywhere, whitespace separates fields. */
export const pamRule = (line: string): string => line.replace(/#.*$/, '').trim().split(/\s+/).join(' ');

/** The foreign lines of each file, for diff and apply. */
export function foreignPamLines(s: PamStackState, accept: Record<string, readonly string[]>): { file: PamFile; lines: PamLine[] }[] {
  const sets = new Map(Object.entries(accept).map(([f, ls]) => [f, new Set(ls.map(pamRule))]));
  return s.files
    .map((file) => ({ file, lines: file.lines.filter((l) => !sets.get(path.posix.basename(file.path))?.has(pamRule(l.raw))) }))
    .filter((f) => f.lines.length > 0);
}

export function pamStack(opts: PamStackOptions): Resource<PamStackState> {
  const type = 'pam-stack';
  const service = requireOneLine(type, opts?.service, 'service', opts?.service);
  if (!NAME.test(service)) throw new ResourceError(`${type}:${service}: service must be a file name under ${PAM_DIR}`);
  if (!opts.accept || typeof opts.accept !== 'object') throw new ResourceError(`${type}:${service}: accept must map file names to lines`);
  for (const [f, lines] of Object.entries(opts.accept)) {
    if (!NAME.test(f)) throw new ResourceError(`${type}:${service}: accept key ${JSON.stringify(f)} is not a file name under ${PAM_DIR}`);
    if (!Array.isArray(lines)) throw new ResourceError(`${type}:${service}: accept.${f} must be a list of lines`);
    lines.forEach((l) => requireOneLine(type, service, `accept.${f}`, l));
  }
  if (!(service in opts.accept)) throw new ResourceError(`${type}:${service}: accept must list the service's own file`);
  const c = common(type, service, opts, { supported: true });
  const known = Object.keys(opts.accept);
  const moves = movesFile(`pam-${service}`);
  const acceptedAs = opts.acceptedAs ?? 'accepted';

  // A worklist of files in effect: the service's file, then what it includes (known names only).
  // Shell builtins only (read, case, parameter expansion), one sha256sum for all files at the end:
  // a no-op probe pays a few ms, not a process per line or file.
  const probe = (): string =>
    [
      `known=${sh(` ${known.join(' ')} `)}; w=$(printf ' \\t')`,
      `todo=${sh(`${PAM_DIR}/${service} `)}; seen=' '; files=''`,
      `while [ -n "$todo" ]; do`,
      `  f=\${todo%% *}; todo=\${todo#* }`,
      `  case "$seen" in *" $f "*) continue;; esac`,
      `  seen="$seen$f "`,
      `  [ -f "$f" ] || continue`,
      `  files="$files $f"; n=0`,
      `  while IFS= read -r l || [ -n "$l" ]; do`,
      `    n=$((n + 1)); t=\${l#"\${l%%[!${WS}]*}"}`,
      `    case "$t" in ''|'#'*) continue;; esac`,
      `    printf 'pamline %s %s:%s\\n' "$f" "$n" "$l"`,
      // @include NAME, or TYPE include|substack NAME: the word after the keyword
      `    case "$t" in @include[${WS}]*) i=\${t#@include};; *[${WS}]include[${WS}]*) i=\${t#*[${WS}]include};; *[${WS}]substack[${WS}]*) i=\${t#*[${WS}]substack};; *) continue;; esac`,
      `    i=\${i#"\${i%%[!${WS}]*}"}; i=\${i%%[#${WS}]*}`,
      `    case "$known" in *" $i "*) todo="$todo${PAM_DIR}/$i ";; esac`,
      `  done <"$f"`,
      `done`,
      `[ -z "$files" ] || sha256sum -- $files | while read -r h f; do printf 'pamfile %s %s\\n' "$h" "$f"; done`,
    ].join('\n');

  const parse = (stdout: string): PamStackState => {
    const out = new ProbeOutput(stdout);
    const files: PamFile[] = out.all('pamfile').map((v) => {
      const sp = v.indexOf(' ');
      return { sha256: v.slice(0, sp), path: v.slice(sp + 1), lines: [] };
    });
    for (const v of out.all('pamline')) {
      const m = /^(\S+) (\d+):(.*)$/.exec(v);
      if (m) files.find((f) => f.path === m[1])?.lines.push({ number: Number(m[2]), raw: m[3]! });
    }
    return { files };
  };

  const delta = (s: PamStackState): Delta | null => {
    const foreign = foreignPamLines(s, opts.accept);
    if (!foreign.length) return null;
    const n = foreign.reduce((a, f) => a + f.lines.length, 0);
    return {
      action: 'update',
      summary: `remove ${n} foreign line${n > 1 ? 's' : ''} from the PAM stack of ${service}: ${foreign.map((f) => path.posix.basename(f.file.path)).join(', ')}`,
      diff: foreign
        .map((f) =>
          [
            ...f.lines.map((l) => `! ${f.file.path}:${l.number} ${l.raw.trim()} (not ${acceptedAs})`),
            `  → apply removes ${f.lines.length > 1 ? 'them' : 'it'}; the file as it was is kept at ${quarantinePath(f.file)}`,
          ].join('\n'),
        )
        .join('\n'),
    };
  };

  const apply = (s: PamStackState): string =>
    seq(
      `mkdir -p ${QUARANTINE_DIR} && chmod 700 ${QUARANTINE_DIR}`,
      `: >${sh(moves)}`,
      ...foreignPamLines(s, opts.accept).flatMap(({ file, lines }) => {
        const dest = quarantinePath(file);
        // the first copy is the file as probed: a second stack sharing the file must not overwrite it
        return [
          `[ -e ${sh(dest)} ] || { mkdir -p -- ${sh(path.posix.dirname(dest))} && cp -p -- ${sh(file.path)} ${sh(dest)}; }`,
          `printf '%s %s\\n' ${sh(file.sha256.slice(0, 12))} ${sh(file.path)} >>${sh(moves)}`,
          atomicWriteScript({
            path: file.path,
            // grep exits 1 when no line is left: still a good result
            produce: `grep -v -a -F -x ${lines.map((l) => `-e ${sh(l.raw)}`).join(' ')} -- "$p"; [ $? -le 1 ]`,
            ownership: 'keep',
            followSymlink: true,
          }),
        ];
      }),
    );

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
    // the lockout guard puts back the files as they were before this change (from the quarantine copies)
    ...(c.guard ? { guardPaths: () => [], guardRestore: () => asApply(unquarantineScript(moves)) } : {}),
  };
}
