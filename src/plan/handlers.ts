// When the handlers of a host run, decided ONCE: the planner lists this schedule in the plan and
// the executor runs it, so what the plan shows and what apply does cannot disagree.
//   - A guarded change (sshd, PAM, firewall) runs its handlers right after itself, in its notify
//     order: the lockout guard's login test must meet the reloaded service.
//   - Every other notified handler runs once, after the last change of the play, in the order the
//     roles define handlers.
//   - A handler an interrupted run left pending (recorded on the host) runs like one notified in
//     the play of the role that defines it.
import type { CompiledHost } from './compile.js';
import type { PlannedHandler } from './types.js';
import type { PendingHandler } from './host-records.js';

export interface HandlerRun {
  name: string;
  /** the play after whose changes it runs */
  play: number;
  /** set when it runs right after this guarded change (a resource index) instead of at the play's end */
  afterGuarded?: number;
  /** resource indexes of the changes that notify it, in plan order */
  notifiedBy: number[];
  /** left pending by an interrupted run (src/plan/host-records.ts) */
  pendingSince?: { runId: string; at: string };
}

/** `changed`: resource indexes that have a change, in order (PlannedHost.changed). */
export function scheduleHandlers(ch: CompiledHost, changed: readonly number[], leftPending: readonly PendingHandler[] = []): HandlerRun[] {
  const playOfRole = new Map(ch.roles.map((r) => [r.role.name, r.play]));
  const playOf = (i: number) => playOfRole.get(ch.roleOf.get(ch.resources[i]!.id)!)!;
  const runs: HandlerRun[] = [];
  for (const play of [...new Set(ch.roles.map((r) => r.play))].sort((a, b) => a - b)) {
    const pending = new Map<string, number[]>();
    for (const i of changed.filter((i) => playOf(i) === play)) {
      const r = ch.resources[i]!;
      for (const n of r.notify) {
        const by = [...(pending.get(n) ?? []), i];
        if (r.guard) {
          runs.push({ name: n, play, afterGuarded: i, notifiedBy: by });
          pending.delete(n);
        } else pending.set(n, by);
      }
    }
    for (const [n, def] of ch.handlers) {
      const left = playOfRole.get(def.role) === play ? leftPending.find((p) => p.name === n) : undefined;
      const by = pending.get(n) ?? (left ? [] : undefined);
      if (by) runs.push({ name: n, play, notifiedBy: by, ...(left ? { pendingSince: { runId: left.runId, at: left.at } } : {}) });
    }
  }
  return runs;
}

/** The plan's view of a schedule: names, effects and the change ids that notify each. */
export function plannedHandlers(ch: CompiledHost, runs: readonly HandlerRun[]): PlannedHandler[] {
  return runs.map((h) => {
    const def = ch.handlers.get(h.name)!;
    return {
      name: h.name,
      role: def.role,
      effect: def.effect,
      ...(def.restarts ? { restarts: def.restarts } : {}),
      notifiedBy: h.notifiedBy.map((i) => ch.resources[i]!.id),
      ...(h.pendingSince ? { pendingSince: h.pendingSince } : {}),
    };
  });
}
