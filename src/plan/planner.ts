// Planning is pure: probe output in, HostPlan out. It never talks to a host (src/apply/run.ts
// runs the probe) and never changes one.
import { createHash } from 'node:crypto';
import type { CompiledHost } from './compile.js';
import type { HostPlan } from './types.js';
import type { ProbeOutput } from './probe-script.js';
import type { Change } from '../resources/types.js';
import { parseFacts } from '../facts/probe.js';
import { checkSizingOnline } from './rules.js';
import { checkRelease } from '../facts/release.js';
import { parseRecords, type PendingHandler } from './host-records.js';
import { plannedHandlers, scheduleHandlers, type HandlerRun } from './handlers.js';

export interface PlannedHost {
  plan: HostPlan;
  /** parsed state per resource (same order as compiled.resources); the executor passes it to apply() */
  states: unknown[];
  /** resource indexes that have a change, in order */
  changed: number[];
  /** when each notified handler runs (the executor runs exactly this; plan.handlers shows it) */
  handlerRuns: HandlerRun[];
}

export function planFromProbe(ch: CompiledHost, out: ProbeOutput, execs: number): PlannedHost {
  const facts = parseFacts(out.facts);
  const records = parseRecords(out.records ?? '');
  const plan: HostPlan = { host: ch.host.name, changes: [], handlers: [], skipped: [], warnings: [...ch.warnings], unhealthy: [], fingerprint: '', facts, execs, records };
  // What an interrupted run left behind is part of the plan: its handlers run on the next apply.
  const leftPending: PendingHandler[] = [];
  for (const p of records.pending) {
    if (ch.handlers.has(p.name)) leftPending.push(p);
    else plan.warnings.push(`handler "${p.name}" is pending since run ${p.runId} (${p.at}) but no role of this host defines it any more: it will not run`);
  }
  for (const a of records.armed) {
    plan.warnings.push(`a restore armed by run ${a.runId} at ${a.at} was never confirmed: it puts back the files from before that run's guarded change by itself`);
  }
  if (records.lock && !records.lock.expired) {
    plan.warnings.push(`locked by ${records.lock.owner} (run ${records.lock.runId} since ${records.lock.since}, lease until ${records.lock.expires}): an apply now is refused on this host`);
  }
  const sizing = checkSizingOnline(ch.roles.map((r) => r.role), facts);
  const errors = checkRelease(facts.os, ch.host.spec.os, ch.roles.map((r) => r.role), ch.release);
  if (sizing.length) {
    if (ch.host.sizing === 'warn') plan.warnings.push(...sizing);
    else errors.push(...sizing);
  }
  if (errors.length) plan.error = errors.join('; ');
  const states: unknown[] = [];
  const changed: number[] = [];
  const fp = createHash('sha256');
  ch.resources.forEach((r, i) => {
    const raw = out.resources[i]!;
    fp.update(`${r.id}\0${raw.status}\0${raw.stdout}\0`);
    const reason = r.skipIf?.(facts);
    if (reason) {
      plan.skipped.push({ id: r.id, reason });
      states.push(undefined);
      return;
    }
    const state = r.parse(raw.stdout, raw.status);
    states.push(state);
    const change = r.diff(state);
    if (change) {
      plan.changes.push(change);
      changed.push(i);
    }
  });
  plan.fingerprint = fp.digest('hex');
  const handlerRuns = scheduleHandlers(ch, changed, leftPending);
  plan.handlers = plannedHandlers(ch, handlerRuns);
  ch.health.forEach((h, i) => {
    if (out.health[i] !== 0) plan.unhealthy.push(h.name);
  });
  return { plan, states, changed, handlerRuns };
}

/** After apply: every resource must be converged. Returns what still differs. */
export function unconverged(ch: CompiledHost, out: ProbeOutput, skipped: Set<string>): Change[] {
  const left: Change[] = [];
  ch.resources.forEach((r, i) => {
    if (skipped.has(r.id)) return;
    const raw = out.resources[i]!;
    const change = r.diff(r.parse(raw.stdout, raw.status));
    if (change) left.push(change);
  });
  return left;
}
