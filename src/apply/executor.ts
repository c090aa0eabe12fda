// The executor takes a host's plan and carries it out; it never re-decides it. Per play and host:
// apply the planned changes of that play's roles in order (plain changes batched into one exec;
// each guarded change alone, followed by a fresh-login test), then run notified handlers once.
import type { CompiledHost } from '../plan/compile.js';
import type { PlannedHost } from '../plan/planner.js';
import type { Change } from '../resources/types.js';
import type { Emit } from './events.js';
import { ConnectError } from '../transport/errors.js';
import { stepsScript, backupScript, restoreScript, dropBackupScript, type Step } from './scripts.js';

/** What the executor needs from a connection (src/transport implements it). */
export interface Remote {
  run(script: string): Promise<{ stdout: string; stderr: string; code: number }>;
  testFreshLogin(): Promise<void>;
}

export class HostFailure extends Error {}

export interface HostApplyState {
  applied: Change[];
  /** handlers notified and not yet run */
  pending: Set<string>;
}

export async function applyPlay(
  ch: CompiledHost,
  planned: PlannedHost,
  playIndex: number,
  remote: Remote,
  runId: string,
  state: HostApplyState,
  emit: Emit,
): Promise<void> {
  const host = ch.host.name;
  const playRoles = new Set(ch.roles.filter((r) => r.play === playIndex).map((r) => r.role.name));
  const mine = planned.changed.filter((i) => playRoles.has(ch.roleOf.get(ch.resources[i]!.id)!));
  let batch: number[] = [];

  const runSteps = async (steps: Step[], changes: (Change | undefined)[]) => {
    const s = stepsScript(steps);
    const res = await remote.run(s.script);
    const results = s.parse(res.stdout);
    for (const [i, r] of results.entries()) {
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
  };

  const flush = async () => {
    if (!batch.length) return;
    const changes = batch.map((i) => planned.plan.changes[planned.changed.indexOf(i)]!);
    const steps = batch.map((i) => ({ label: `${ch.resources[i]!.id}`, script: ch.resources[i]!.apply(planned.states[i]) }));
    changes.forEach((c) => emit({ type: 'change.applying', host, change: c }));
    batch.forEach((i) => ch.resources[i]!.notify.forEach((n) => state.pending.add(n)));
    batch = [];
    await runSteps(steps, changes);
  };

  for (const i of mine) {
    const r = ch.resources[i]!;
    if (!r.guard) {
      batch.push(i);
      continue;
    }
    await flush();
    await applyGuarded(ch, planned, i, remote, runId, state, emit, runSteps);
  }
  await flush();
  await runHandlers(ch, remote, state, emit, runSteps);
}

async function applyGuarded(
  ch: CompiledHost,
  planned: PlannedHost,
  i: number,
  remote: Remote,
  runId: string,
  state: HostApplyState,
  emit: Emit,
  runSteps: (steps: Step[], changes: (Change | undefined)[]) => Promise<void>,
): Promise<void> {
  const host = ch.host.name;
  const r = ch.resources[i]!;
  const change = planned.plan.changes[planned.changed.indexOf(i)]!;
  const paths = r.guardPaths?.() ?? [];
  // The handlers of a guarded change (reload sshd, …) run now: the login test must meet the new config.
  const handlers = r.notify.map((n) => ({ label: `handler ${n}`, script: ch.handlers.get(n)! }));
  emit({ type: 'change.applying', host, change });
  await runSteps(
    [{ label: `backup before ${r.id}`, script: backupScript(runId, paths) }, { label: r.id, script: r.apply(planned.states[i]) }, ...handlers],
    [undefined, change],
  );
  r.notify.forEach((n) => state.pending.delete(n));
  const why = await freshLoginProblem(remote);
  const ok = why === undefined;
  emit({ type: 'guard.login', host, change: r.id, ok });
  if (ok) {
    await remote.run(dropBackupScript(runId));
    return;
  }
  // Lockout guard: put the previous files back and reload, over the connection we still hold.
  const restore = stepsScript([
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

async function runHandlers(ch: CompiledHost, remote: Remote, state: HostApplyState, emit: Emit, runSteps: (steps: Step[], changes: (Change | undefined)[]) => Promise<void>): Promise<void> {
  if (!state.pending.size) return;
  // Handlers run in the order the roles define them, each once.
  const names = [...ch.handlers.keys()].filter((n) => state.pending.has(n));
  state.pending.clear();
  await runSteps(names.map((n) => ({ label: `handler ${n}`, script: ch.handlers.get(n)! })), []);
  names.forEach((n) => emit({ type: 'handler.ran', host: ch.host.name, handler: n }));
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

const indent = (s: string) => s.split('\n').slice(-20).map((l) => `    ${l}`).join('\n');
