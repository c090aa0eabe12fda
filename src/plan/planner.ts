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
import { publishedValue, valueKey, VALUE_SAFE_PROBES, type ValueTable } from './values.js';

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
  // The roles' own checks of facts they declared (like sizing: enforce fails the plan, warn warns).
  for (const c of ch.checks) {
    if (c.skipped) plan.skipped.push({ id: `check:${c.name}`, reason: c.skipped });
    else if (c.problem && c.mode === 'enforce') errors.push(`${c.name}: ${c.problem}`);
    else if (c.problem) plan.warnings.push(`${c.name}: ${c.problem}`);
  }
  if (errors.length) plan.error = errors.join('; ');
  const states: unknown[] = [];
  const changed: number[] = [];
  const fp = createHash('sha256');
  const later: Change[] = [];
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
    const waits = ch.deferred.get(r.id);
    if (waits) {
      // Its desired state holds a value no probe has read yet: shown, applied in a later round.
      const names = waits.map(valueKey).join(', ');
      const shown = r.diff(state) ?? { id: r.id, type: r.type, action: 'update' as const, summary: 'content' };
      later.push({ ...shown, summary: `${shown.summary} (known after apply: ${names})` });
      plan.deferred = [...(plan.deferred ?? []), { id: r.id, waitsFor: waits.map(valueKey) }];
      return;
    }
    const change = r.diff(state);
    if (change) {
      plan.changes.push(change);
      changed.push(i);
    }
  });
  // After the others: the executor finds a planned change by its index among `changed`.
  plan.changes.push(...later);
  plan.fingerprint = fp.digest('hex');
  const handlerRuns = scheduleHandlers(ch, changed, leftPending);
  plan.handlers = plannedHandlers(ch, handlerRuns);
  ch.health.forEach((h, i) => {
    if (out.health[i] !== 0) plan.unhealthy.push(h.name);
  });
  return { plan, states, changed, handlerRuns };
}

/** After apply: every resource must be converged (those waiting for a value come in a later round). Returns what still differs. */
export function unconverged(ch: CompiledHost, out: ProbeOutput, skipped: Set<string>): Change[] {
  const left: Change[] = [];
  ch.resources.forEach((r, i) => {
    if (skipped.has(r.id) || ch.deferred.has(r.id)) return;
    const raw = out.resources[i]!;
    const change = r.diff(r.parse(raw.stdout, raw.status));
    if (change) left.push(change);
  });
  return left;
}

/** The values a host's probe read (published by its roles) go into the table; absent ones leave it. */
export function readValues(ch: CompiledHost, out: ProbeOutput, table: ValueTable): void {
  ch.extras.forEach((x, i) => {
    if (x.kind !== 'value') return;
    const key = valueKey({ host: ch.host.name, role: x.role, name: x.name });
    const v = publishedValue(out.extras?.[i]);
    if (v === undefined) table.delete(key);
    else table.set(key, v);
  });
}

/**
 * The host compiled again with what the probes read: other hosts' published values and its roles'
 * facts. The probe must not move (it already ran): a resource whose probe or id depends on a value
 * is an error.
 */
export function withProbed(ch: CompiledHost, out: ProbeOutput, table: ValueTable): CompiledHost {
  if (!ch.extras.length && !ch.deferred.size) return ch;
  const facts = new Map<string, Map<string, unknown>>();
  ch.extras.forEach((x, i) => {
    if (x.kind !== 'fact') return;
    const raw = out.extras?.[i] ?? { stdout: '', status: -1 };
    let v: unknown;
    try {
      v = x.parse!(raw.stdout, raw.status);
    } catch (e) {
      throw new Error(`fact ${x.role}.${x.name}: its parser failed on the probe's output (exit ${raw.status}): ${(e as Error).message}`);
    }
    facts.set(x.role, (facts.get(x.role) ?? new Map<string, unknown>()).set(x.name, v));
  });
  const again = ch.rebuild(table, facts);
  // It was probed as compiled before: a resource whose probe moved must be one whose probe reads the
  // same state whatever its content (a file), else its probed state would not answer for it.
  const moved = again.resources.find((r, i) => ch.resources[i]?.id !== r.id || (ch.resources[i]!.probe() !== r.probe() && !VALUE_SAFE_PROBES.has(r.type)));
  if (moved || again.resources.length !== ch.resources.length) {
    throw new Error(`${moved?.id ?? 'a resource'} changes its probe or id with a role fact or host value: put them into a file's content (or a template)`);
  }
  return again;
}
