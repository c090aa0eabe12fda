// The executor takes a host's plan and carries it out; it never re-decides it. Per play and host:
// apply the planned changes of that play's roles in order (plain changes batched into one exec;
// each guarded change alone, followed by a fresh-login test), then run notified handlers once.
// The last batch, the handlers and (in the host's last play with changes) the verification probe
// share ONE exec: a host that repairs one file costs two execs in all, probe and this one.
// Every apply exec starts by taking (first exec) or renewing this run's lock on the host; the last
// one ends by writing the run's record and releasing the lock (src/plan/host-records.ts). A change
// records the handlers it notifies before it is made, in the same step; a handler step drops its
// record only once it succeeded — so however a run is cut, no notified handler is forgotten.
import type { CompiledHost } from '../plan/compile.js';
import type { PlannedHost } from '../plan/planner.js';
import type { HandlerRun } from '../plan/handlers.js';
import type { Change } from '../resources/types.js';
import type { Emit } from './events.js';
import { ConnectError } from '../transport/errors.js';
import type { ProbeScript, ProbeOutput } from '../plan/probe-script.js';
import {
  stepsScript, backupScript, restoreScript, armRestoreScript, confirmScript, disarmScript, dropBackupScript, notePendingScript, handlerStep,
  takeLockScript, renewLockScript, renewerScript, releaseLockScript, recordScript, applyExecScript, type Step, type RunIdentity,
} from './scripts.js';
import type { RunRecord } from '../plan/host-records.js';

/** What the executor needs from a connection (src/transport implements it). */
export interface Remote {
  run(script: string): Promise<{ stdout: string; stderr: string; code: number }>;
  testFreshLogin(): Promise<void>;
}

export class HostFailure extends Error {}

/** The run as the host sees it: who locks it, what the probe read, what to record at the end. */
export interface ApplyContext extends RunIdentity {
  /** the host generation this run's probe read: the first apply exec refuses when it moved */
  generation: number;
  /** written at the end of the host's last apply exec (result "applied") */
  record: Omit<RunRecord, 'result' | 'at'>;
}

export interface HostApplyState {
  applied: Change[];
  /** handlers notified (or left pending by an interrupted run) and not yet run */
  pending: Set<string>;
  /** handlers that ran, in order */
  ran: HandlerRun[];
  /** the verification probe's output, when it ran at the end of the host's last apply exec */
  verified?: ProbeOutput;
  /** this run holds the host's lock now */
  locked?: boolean;
  /** this run took the host's lock at some point: it may write the host's record */
  tookLock?: boolean;
  /** apply execs sent so far (names each exec's output file on the host) */
  execs?: number;
}

export async function applyPlay(
  ch: CompiledHost,
  planned: PlannedHost,
  playIndex: number,
  remote: Remote,
  run: ApplyContext,
  state: HostApplyState,
  emit: Emit,
  /** given in the host's last play with changes: probe again after the handlers, in the same exec */
  verify?: ProbeScript,
): Promise<void> {
  const runId = run.runId;
  const host = ch.host.name;
  const playRoles = new Set(ch.roles.filter((r) => r.play === playIndex).map((r) => r.role.name));
  const mine = planned.changed.filter((i) => playRoles.has(ch.roleOf.get(ch.resources[i]!.id)!));
  let batch: number[] = [];

  /** `then`: sh run after the steps when every one succeeded (its output is returned) */
  const runSteps = async (given: Step[], givenChanges: (Change | undefined)[], then = ''): Promise<string> => {
    // Every apply exec holds the lock: the first takes it, later ones renew it; both keep renewing it
    // in the background while the exec runs.
    const lock: Step = { label: 'lock', script: `${state.locked ? renewLockScript(run) : takeLockScript(run, run.generation)}\n${renewerScript(run)}` };
    const steps = [lock, ...given];
    const changes = [undefined, ...givenChanges];
    const s = stepsScript(steps);
    state.execs = (state.execs ?? 0) + 1;
    const res = await remote.run(applyExecScript(runId, state.execs, s.script + then));
    const results = s.parse(res.stdout);
    for (const [i, r] of results.entries()) {
      if (i === 0 && r.status !== 0) throw new HostFailure(r.output.replace(/^provision: /, '') || `taking the host's lock failed (exit ${r.status})`);
      if (i === 0) {
        state.locked = state.tookLock = true;
        const over = /^took-over (\S+) (\S+) (\S+)$/m.exec(r.output);
        if (over) emit({ type: 'lock.takenover', host, runId: over[1]!, owner: over[2]!, expired: over[3]! });
      }
      if (steps[i]!.label === 'release lock' && r.status === 0) state.locked = false;
      if (r.status !== 0) {
        throw new HostFailure(`${steps[i]!.label} failed (exit ${r.status})${r.output ? `:\n${indent(r.output)}` : ''}`);
      }
      const c = changes[i];
      if (c) {
        state.applied.push(c);
        emit({ type: 'change.applied', host, change: c });
      }
    }
    if (results.length < steps.length) {
      throw new HostFailure(`the apply exec stopped after ${results.length} of ${steps.length} steps (exit ${res.code})${res.stderr ? `: ${res.stderr.trim()}` : ''}`);
    }
    return res.stdout;
  };

  const flush = async (last: boolean) => {
    const changes = batch.map((i) => planned.plan.changes[planned.changed.indexOf(i)]!);
    const steps: Step[] = batch.map((i) => changeStep(ch, planned, i, runId));
    batch.forEach((i) => ch.resources[i]!.notify.forEach((n) => state.pending.add(n)));
    batch = [];
    // The planned schedule (src/plan/handlers.ts): each notified handler once, after the play's last
    // change — with those an interrupted run left pending.
    const handlers = last ? planned.handlerRuns.filter((h) => h.play === playIndex && h.afterGuarded === undefined) : [];
    steps.push(...handlers.map((h) => handlerStep(h.name, ch.handlers.get(h.name)!.script)));
    const probe = last ? verify : undefined;
    if (!steps.length && !probe) return;
    // The host's last exec records the run and releases the lock, then probes to verify.
    if (probe) {
      const record: RunRecord = { ...run.record, at: new Date().toISOString(), result: 'applied', changes: planned.changed.length };
      steps.push({ label: 'record the run', script: recordScript(record) }, { label: 'release lock', script: releaseLockScript(run) });
    }
    changes.forEach((c) => emit({ type: 'change.applying', host, change: c }));
    if (probe) emit({ type: 'host.verifying', host });
    const stdout = await runSteps(steps, changes, probe?.script);
    handlers.forEach((h) => {
      state.pending.delete(h.name);
      state.ran.push(h);
      emit({ type: 'handler.ran', host, handler: h.name });
    });
    if (probe) state.verified = probe.parse(stdout);
  };

  for (const i of mine) {
    const r = ch.resources[i]!;
    if (!r.guard) {
      batch.push(i);
      continue;
    }
    await flush(false);
    await applyGuarded(ch, planned, i, remote, runId, state, emit, runSteps);
  }
  await flush(true);
}

async function applyGuarded(
  ch: CompiledHost,
  planned: PlannedHost,
  i: number,
  remote: Remote,
  runId: string,
  state: HostApplyState,
  emit: Emit,
  runSteps: (steps: Step[], changes: (Change | undefined)[]) => Promise<string>,
): Promise<void> {
  const host = ch.host.name;
  const r = ch.resources[i]!;
  const change = planned.plan.changes[planned.changed.indexOf(i)]!;
  const paths = r.guardPaths?.() ?? [];
  // The handlers of a guarded change (reload sshd, …) run now: the login test must meet the new config.
  const runs = planned.handlerRuns.filter((h) => h.afterGuarded === i);
  const handlers = runs.map((h) => handlerStep(h.name, ch.handlers.get(h.name)!.script));
  // what the host's own restore runs after putting the files back
  const reload = [r.guardRestore?.() ?? '', ...runs.map((h) => ch.handlers.get(h.name)!.script)].join('\n');
  emit({ type: 'change.applying', host, change });
  // The backup and the armed restore come first, in the same exec as the change: if the controller
  // never confirms (killed, link lost, locked out), the host puts its files back by itself.
  await runSteps(
    [{ label: `backup before ${r.id}`, script: `${backupScript(runId, paths)}\n${armRestoreScript(runId, paths, reload)}` }, changeStep(ch, planned, i, runId), ...handlers],
    [undefined, change],
  );
  r.notify.forEach((n) => state.pending.delete(n));
  runs.forEach((h) => {
    state.ran.push(h);
    emit({ type: 'handler.ran', host, handler: h.name });
  });
  const why = await freshLoginProblem(remote);
  const ok = why === undefined;
  emit({ type: 'guard.login', host, change: r.id, ok });
  if (ok) {
    const confirmed = await remote.run(confirmScript(runId));
    if (confirmed.code !== 0) throw new HostFailure(`after ${r.id}: ${confirmed.stderr.trim() || 'the confirmation failed'} — the previous files are back`);
    return;
  }
  // Lockout guard: disarm the host's own restore and put the previous files back now, over the
  // connection we still hold.
  const restore = stepsScript([
    { label: `disarm the restore of ${r.id}`, script: disarmScript(runId) },
    { label: `restore before ${r.id}`, script: restoreScript(runId, paths) },
    ...(r.guardRestore ? [{ label: `reload after restoring ${r.id}`, script: r.guardRestore() }] : []),
    ...handlers,
    { label: 'drop backup', script: dropBackupScript(runId) },
  ]);
  const res = await remote.run(restore.script);
  const restored = restore.parse(res.stdout).every((s) => s.status === 0);
  state.applied.pop();
  throw new HostFailure(
    `lockout guard: after ${r.id} a fresh SSH login failed (${why}); ` +
      (restored ? 'the previous files were restored and reloaded — the host is as before this change' : 'RESTORING THE PREVIOUS FILES FAILED — check the host from its console'),
  );
}

/**
 * The lockout guard's login test. `systemctl reload ssh` re-executes sshd, which closes its
 * listening socket for a moment: a refused or reset connection is retried for a few seconds.
 * Anything else (authentication refused, a firewall that drops, a changed host key) fails at once.
 */
async function freshLoginProblem(remote: Remote): Promise<string | undefined> {
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      await remote.testFreshLogin();
      return undefined;
    } catch (e) {
      const msg = (e as Error).message;
      const transient = e instanceof ConnectError && /refused|reset|closed the connection/i.test(msg);
      if (!transient || Date.now() > deadline) return msg;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** A change's step: the handlers it notifies are recorded first, in the same step (write-ahead). */
function changeStep(ch: CompiledHost, planned: PlannedHost, i: number, runId: string): Step {
  const r = ch.resources[i]!;
  return { label: r.id, script: notePendingScript(runId, r.notify) + r.apply(planned.states[i]) };
}

const indent = (s: string) => s.split('\n').slice(-20).map((l) => `    ${l}`).join('\n');
