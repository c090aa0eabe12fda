// Shell scripts the executor sends: several steps in one exec, each framed by nonce markers so the
// executor learns which step failed and with what output. Values are quoted with sh().
import { randomBytes } from 'node:crypto';
import { sh, shBytes } from '../shell/quote.js';
import { STATE_DIR } from '../resources/common.js';
import { GENERATION_FILE, GUARD_DIR, LEASE_SECONDS, LOCK_FILE, MUTEX_FILE, PENDING_DIR, RECORD_FILE, RUN_OUT_DIR, handlerFile, type RunRecord } from '../plan/host-records.js';

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

/** What the executor knows about a run, for the records it leaves on the host. */
export interface RunIdentity {
  runId: string;
  /** user@controller: one word, shown to whoever is refused by this run's lock */
  owner: string;
}

/** A run's owner as one safe word (it is stored in a space-separated line on the host). */
export const ownerWord = (owner: string): string => owner.replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 100) || 'unknown';

/** Write-ahead: the handlers a change notifies are recorded BEFORE the change, in the same step. */
export function notePendingScript(runId: string, handlers: readonly string[]): string {
  if (!handlers.length) return '';
  return [`mkdir -p ${PENDING_DIR}`, ...handlers.map((h) => `printf '%s %s\\n' ${sh(runId)} "$(date +%s)" >> ${sh(handlerFile(h))}`)].join('\n') + '\n';
}

/** A handler step: its record is dropped only after the handler succeeded (the step runs under set -e). */
export const handlerStep = (name: string, script: string): Step => ({ label: `handler ${name}`, script: `${script.replace(/\n*$/, '')}\nrm -f ${sh(handlerFile(name))}` });

/** sh run under the host's mutex (flock on a file descriptor: released when the subshell ends). */
const underMutex = (body: string): string => `mkdir -p ${STATE_DIR}\n(\nflock -w 20 9 || { echo 'provision: cannot take the host mutex ${MUTEX_FILE}' >&2; exit 1; }\n${body}\n) 9>${MUTEX_FILE}`;

/**
 * sh that replaces `file` (a plain path or an sh-quoted word) with what `producer` prints: a
 * temp file beside it, then rename(2) — a reader never sees half a lock, generation or record.
 */
const replaceFile = (file: string, producer: string): string => `${producer} > ${file}.tmp && mv -f ${file}.tmp ${file}`;

const writeLock = (id: RunIdentity, since: string) =>
  replaceFile(LOCK_FILE, `printf '%s %s %s %s\\n' ${sh(id.runId)} ${sh(ownerWord(id.owner))} "${since}" "$(($(date +%s) + ${LEASE_SECONDS}))"`);

/**
 * The first step of a run's first apply exec on a host: take the lease, refuse when another live run
 * holds it, take it over from a run whose lease expired (printing "took-over RUN OWNER EXPIRES"), and
 * refuse when any run applied since this run's probe (the generation moved). Bumps the generation.
 */
export function takeLockScript(id: RunIdentity, probedGeneration: number): string {
  return underMutex(
    [
      `now=$(date +%s); gen=0; [ -r ${GENERATION_FILE} ] && read -r gen < ${GENERATION_FILE}`,
      `if [ -r ${LOCK_FILE} ] && read -r lrun lowner lsince lexp < ${LOCK_FILE} && [ "$lrun" != ${sh(id.runId)} ]; then`,
      `  if [ "$now" -le "$lexp" ]; then`,
      `    printf 'locked by %s (run %s since %s, lease until %s): another apply is working on this host\\n' "$lowner" "$lrun" "$(date -u -d "@$lsince" +%FT%TZ)" "$(date -u -d "@$lexp" +%FT%TZ)" >&2; exit 3`,
      `  fi`,
      `  printf 'took-over %s %s %s\\n' "$lrun" "$lowner" "$(date -u -d "@$lexp" +%FT%TZ)"`,
      `fi`,
      `if [ "$gen" != ${sh(String(probedGeneration))} ]; then`,
      `  printf 'another run changed this host since it was probed (generation %s, probed at %s): plan again\\n' "$gen" ${sh(String(probedGeneration))} >&2; exit 4`,
      `fi`,
      replaceFile(GENERATION_FILE, 'echo $((gen + 1))'),
      writeLock(id, '$now'),
    ].join('\n'),
  );
}

/** Extend this run's lease; fails when the lock is no longer this run's. */
export function renewLockScript(id: RunIdentity): string {
  return underMutex(
    [
      `read -r lrun lowner lsince lexp 2>/dev/null < ${LOCK_FILE} || lrun=`,
      `[ "$lrun" = ${sh(id.runId)} ] || { printf 'provision: this run lost its lock on the host (now held by %s)\\n' "\${lowner:-nobody}" >&2; exit 1; }`,
      writeLock(id, '$lsince'),
    ].join('\n'),
  );
}

/**
 * Renew the lease every LEASE/4 while this exec lives, in the background: a long step (an apt
 * install) never lets the lease lapse, and a killed exec stops renewing (its shell, $$, is gone).
 */
export function renewerScript(id: RunIdentity): string {
  return `( while sleep ${LEASE_SECONDS / 4} && kill -0 $$ 2>/dev/null; do ( ${renewLockScript(id).replace(/\n/g, '\n  ')}\n  ) || :; done ) >/dev/null 2>&1 </dev/null &`;
}

export function releaseLockScript(id: RunIdentity): string {
  return underMutex(`read -r lrun rest 2>/dev/null < ${LOCK_FILE} || lrun=\n[ "$lrun" != ${sh(id.runId)} ] || rm -f ${LOCK_FILE}`);
}

/** Write the run's record atomically (temp file + rename). */
export function recordScript(record: RunRecord): string {
  return `mkdir -p ${STATE_DIR}\n${replaceFile(RECORD_FILE, `{\n${shBytes(JSON.stringify(record))}}`)}`;
}

/**
 * An apply exec as sent: its output goes to a file on the host and comes back at the end, so a
 * controller that dies (kill -9, lost link) cannot break a pipe under a running step — the exec
 * runs to its end, its handlers included, and releases the lock if it was the last. HUP/PIPE are
 * ignored for the same reason.
 */
export function applyExecScript(runId: string, n: number, body: string): string {
  const out = `${RUN_OUT_DIR}/${runId}.${n}`;
  return [
    `trap '' HUP PIPE`,
    `mkdir -p ${RUN_OUT_DIR} && chmod 700 ${RUN_OUT_DIR} || exit 1`,
    // a subshell, not a group: a step that fails ends it with `exit`, and the output must still come back
    `(\n${body}\n) > ${sh(out)} 2>&1 </dev/null`,
    `cat ${sh(out)}; rm -f ${sh(out)}`,
  ].join('\n') + '\n';
}

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

/** seconds after a guarded change until the host restores the previous files by itself */
export const RESTORE_AFTER_SECONDS = 60;
const restoreUnit = (runId: string) => `provision-restore-${runId}`;
/** Stop a run's restore timer, if armed (confirm, disarm and re-arm all start here). */
const stopRestoreTimer = (runId: string) => `systemctl stop ${sh(`${restoreUnit(runId)}.timer`)} 2>/dev/null || :`;

/**
 * "Commit confirmed": after the backup, the host arms its own restore — a systemd timer that runs
 * restore.sh unless the controller confirms after a good fresh login. Whoever first creates the
 * claim directory (the restore or the confirmation) acts; the other stands down.
 */
export function armRestoreScript(runId: string, paths: string[], reload: string): string {
  const dir = `${GUARD_DIR}/${runId}`;
  const restore = [
    `mkdir ${sh(`${dir}/claim`)} 2>/dev/null || exit 0`,
    restoreScript(runId, paths),
    reload,
    `rm -rf ${sh(dir)}`,
  ].join('\n');
  return [
    replaceFile(sh(`${dir}/restore.sh`), `printf '%s\\n' ${sh(restore)}`),
    stopRestoreTimer(runId),
    `systemd-run --quiet --collect --unit=${sh(restoreUnit(runId))} --on-active=${RESTORE_AFTER_SECONDS} --timer-property=AccuracySec=1s /bin/sh ${sh(`${dir}/restore.sh`)}`,
  ].join('\n');
}

/** The controller's confirmation after a good login: disarm, drop the backup. Fails if the restore already fired. */
export function confirmScript(runId: string): string {
  const dir = `${GUARD_DIR}/${runId}`;
  return [
    `mkdir ${sh(`${dir}/claim`)} || { echo 'provision: the armed restore fired before the confirmation' >&2; exit 1; }`,
    stopRestoreTimer(runId),
    `rm -rf ${sh(dir)}`,
  ].join('\n');
}

/** After a failed login test, over the connection still held: disarm first, then restore ourselves. */
export function disarmScript(runId: string): string {
  return `${stopRestoreTimer(runId)}\nmkdir -p ${sh(`${GUARD_DIR}/${runId}/claim`)}`;
}

export function dropBackupScript(runId: string): string {
  return `rm -rf ${sh(`${GUARD_DIR}/${runId}`)}`;
}
