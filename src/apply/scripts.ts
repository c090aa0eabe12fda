// Shell scripts the executor sends: several steps in one exec, each framed by nonce markers so the
// executor learns which step failed and with what output. Values are quoted with sh().
import { randomBytes } from 'node:crypto';
import { sh } from '../shell/quote.js';

export interface Step {
  label: string;
  script: string;
}

export interface StepResult {
  label: string;
  status: number;
  output: string;
}

/** Run steps in order, stop at the first failure. Every step runs under `set -e` in its own subshell. */
export function stepsScript(steps: Step[]): { script: string; parse(stdout: string): StepResult[] } {
  const mark = `@@${randomBytes(8).toString('hex')}@@`;
  const body = steps
    .map(
      (s, i) =>
        `printf '%s\\n' '${mark}s ${i}'\n( set -e\n${s.script}\n) 2>&1 </dev/null\nrc=$?\nprintf '\\n${mark}end %s\\n' "$rc"\n[ "$rc" -eq 0 ] || exit 0`,
    )
    .join('\n');
  return {
    script: `umask 022\n${body}\n`,
    parse(stdout) {
      const results: StepResult[] = [];
      let cur: number | undefined;
      let buf: string[] = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith(`${mark}s `)) {
          cur = Number(line.slice(mark.length + 2));
          buf = [];
        } else if (line.startsWith(`${mark}end `) && cur !== undefined) {
          results.push({ label: steps[cur]!.label, status: Number(line.slice(mark.length + 4)), output: buf.join('\n').trim() });
          cur = undefined;
        } else if (cur !== undefined) buf.push(line);
      }
      return results;
    },
  };
}

const GUARD_DIR = '/var/lib/provision/guard';

/** Save the files a guarded change touches, so a failed login test can put them back. */
export function backupScript(runId: string, paths: string[]): string {
  const dir = `${GUARD_DIR}/${runId}`;
  return [
    `mkdir -p ${sh(dir)} && chmod 700 ${sh(GUARD_DIR)} ${sh(dir)}`,
    ...paths.map((p, i) => `if [ -e ${sh(p)} ]; then cp -a ${sh(p)} ${sh(`${dir}/${i}`)}; else : > ${sh(`${dir}/${i}.absent`)}; fi`),
  ].join('\n');
}

export function restoreScript(runId: string, paths: string[]): string {
  const dir = `${GUARD_DIR}/${runId}`;
  return paths
    .map((p, i) => `if [ -e ${sh(`${dir}/${i}.absent`)} ]; then rm -f ${sh(p)}; else cp -a ${sh(`${dir}/${i}`)} ${sh(p)}; fi`)
    .join('\n');
}

export function dropBackupScript(runId: string): string {
  return `rm -rf ${sh(`${GUARD_DIR}/${runId}`)}`;
}
