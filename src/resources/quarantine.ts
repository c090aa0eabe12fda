// Foreign files: configuration a program reads that provision did not write (a systemd drop-in, a
// file in sshd_config.d or sudoers.d). Shared by systemd-unit and conf-dir. The probe reports each
// such file with its sha256 and its setting lines; apply moves it aside into the quarantine folder
// — never deletes it — at a path the plan names before anything is done:
//   /var/lib/provision/quarantine/<first 12 hex of its sha256>/<its original path>
// Content-addressed, so the name is known at plan time and a second copy never overwrites a first.
import path from 'node:path';
import { sh } from '../shell/quote.js';
import { STATE_DIR, seq } from './common.js';
import type { ProbeOutput } from './probe-output.js';

export const QUARANTINE_DIR = `${STATE_DIR}/quarantine`;

export interface ForeignFile {
  path: string;
  sha256: string;
  /** its setting lines (comments and blank lines left out, secret-looking values redacted), at most MAX_LINES */
  lines: string[];
}

const MAX_LINES = 40;

export const quarantinePath = (f: Pick<ForeignFile, 'path' | 'sha256'>): string => `${QUARANTINE_DIR}/${f.sha256.slice(0, 12)}${f.path}`;

/** A setting whose value may be a secret (the name ends in password, token…): only its name is shown. */
const SECRET_KEYS = '(environment[a-z]*|[a-z]*credential|[a-z_]*(password|passwd|secret|token))';

/**
 * sh that reports every file named by the loop header (`for f in …`) that is not skipped
 * (absolute paths: that file; base names: that name in any directory) — its sha256 and setting
 * lines. Costs nothing when there is no foreign file.
 */
export function foreignProbe(loop: string, skipped: readonly string[], extraSkip = ''): string {
  const skip = skipped.map((n) => (n.startsWith('/') ? sh(n) : `*/${sh(n)}`));
  return [
    `${loop}; do`,
    `  [ -f "$f" ] || continue`,
    ...(skip.length ? [`  case "$f" in ${skip.join('|')}) continue;; esac`] : []),
    ...(extraSkip ? [`  ${extraSkip}`] : []),
    `  h=$(sha256sum <"$f"); h=\${h%% *}`,
    `  printf 'foreign %s %s\\n' "$h" "$f"`,
    `  grep -v -e '^[[:space:]]*[#;[]' -e '^[[:space:]]*$' -- "$f" | head -n ${MAX_LINES} | cut -c1-200 |`,
    `    sed -E -e 's/^([[:space:]]*${SECRET_KEYS}[[:space:]]*[= ]).*/\\1<redacted>/I' -e "s/^/fline $h /"`,
    `done`,
  ].join('\n');
}

export function parseForeign(out: ProbeOutput): ForeignFile[] {
  const files = out.all('foreign').map((v) => {
    const sp = v.indexOf(' ');
    return { sha256: v.slice(0, sp), path: v.slice(sp + 1), lines: [] as string[] };
  });
  for (const v of out.all('fline')) {
    const sp = v.indexOf(' ');
    const f = files.find((x) => x.sha256 === v.slice(0, sp));
    f?.lines.push(v.slice(sp + 1));
  }
  return files;
}

/**
 * One diff line per setting of each foreign file, then where it goes. `judge` names what the role
 * requires for that setting line, or undefined when the role does not set it.
 */
export function foreignDiff(files: readonly ForeignFile[], what: string, judge: (line: string) => string | undefined): string {
  return files
    .map((f) => {
      const name = path.posix.basename(f.path);
      const sets = f.lines.map((l) => {
        const need = judge(l);
        return `! ${what} ${name} sets ${l.trim()}${need ? `; the role requires ${need}` : ''}`;
      });
      return [...(sets.length ? sets : [`! ${what} ${name} (${f.path}) has no settings`]), `  → apply moves it to ${quarantinePath(f)}`].join('\n');
    })
    .join('\n');
}

/** The names of the files, for a one-line summary. */
export const foreignNames = (files: readonly ForeignFile[]): string => files.map((f) => path.posix.basename(f.path)).join(', ');

/** Where the last quarantine of one resource is listed, for the lockout guard to undo it. */
export const movesFile = (key: string): string => `${QUARANTINE_DIR}/moves-${key.replace(/[^A-Za-z0-9._-]/g, '_')}`;

/**
 * sh that moves the files aside (a file already gone is skipped) and lists the moves in `moves`.
 * With `check`: run it afterwards; if it fails, every file goes back and the script fails.
 */
export function quarantineScript(files: readonly ForeignFile[], moves: string, check?: string): string {
  return seq(
    `mkdir -p ${QUARANTINE_DIR} && chmod 700 ${QUARANTINE_DIR}`,
    `: >${sh(moves)}`,
    ...files.map((f) => {
      const dest = quarantinePath(f);
      return `if [ -e ${sh(f.path)} ]; then mkdir -p -- ${sh(path.posix.dirname(dest))} && mv -f -- ${sh(f.path)} ${sh(dest)} && printf '%s %s\\n' ${sh(f.sha256.slice(0, 12))} ${sh(f.path)} >>${sh(moves)}; fi`;
    }),
    check && `if ! { ${check}; } >&2; then ${unquarantineScript(moves)}; printf '%s\\n' 'provision: the configuration does not check without the quarantined files: put back' >&2; exit 1; fi`,
  );
}

/** sh for the lockout guard: put back what the last quarantine of this resource moved. */
export function unquarantineScript(moves: string): string {
  return `if [ -f ${sh(moves)} ]; then while read -r h f; do mv -f -- "${QUARANTINE_DIR}/$h$f" "$f"; done <${sh(moves)}; fi`;
}
