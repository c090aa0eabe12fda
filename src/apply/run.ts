// One run of plan or apply over the hosts of a compiled playbook:
//   1–2. planning (src/plan/probe-plan.ts): probe every host in parallel (ONE exec each), plan
//      (pure), cross-host checks with facts (placement on machine-ids), saved-plan drift;
//   3. apply: play by play, serial batches, failure budget; hosts in a batch run in parallel;
//   4. verify: probe again — every resource must be converged and every health check pass. This
//      probe ends the host's last apply exec (src/apply/executor.ts), so a host is verified before
//      the next serial batch starts and a failed health check counts against the play's budget.
// A failing host never takes the others down: every per-host step is caught and recorded.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { Compiled, CompiledHost } from '../plan/compile.js';
import { readValues, unconverged, type PlannedHost } from '../plan/planner.js';
import type { ValueTable } from '../plan/values.js';
import { plannedHandlers } from '../plan/handlers.js';
import { buildProbeScript, type ProbeOutput } from '../plan/probe-script.js';
import { probeAndPlan, type PlanningOptions } from '../plan/probe-plan.js';
import { hostHasWork, type Plan } from '../plan/types.js';
import { batches } from '../playbook/load.js';
import type { Emit, HostResult } from './events.js';
import { applyPlay, HostFailure, type ApplyContext, type HostApplyState } from './executor.js';
import { LEASE_SECONDS, type RunRecord } from '../plan/host-records.js';
import { recordScript, releaseLockScript, renewLockScript, stepsScript } from './scripts.js';

export interface Connector {
  connect(host: string): Promise<{ run(script: string): Promise<{ stdout: string; stderr: string; code: number }>; readonly execCount: number }>;
  testFreshLogin(host: string): Promise<void>;
}

export interface RunOptions extends PlanningOptions {
  mode: 'plan' | 'apply';
  forks: number;
  /** a remote exec that has not answered after this long fails its host, the others go on (default 600 s) */
  execTimeoutMs?: number;
  emit: Emit;
  /** who runs this (user@controller): the lock's owner and the record's author */
  owner?: string;
  /** the inventory's repository commit, for the record on each host */
  commit?: string;
  /** aborted: start no new host or batch; running execs finish and the results are returned */
  signal?: AbortSignal;
}

export interface RunResult {
  plan: Plan;
  results: HostResult[];
  /** the values the hosts published, as last read (by a planning or a verification probe) */
  values: ValueTable;
}

/**
 * plan: one round. apply: a first round applies everything that does not wait for a value another
 * host publishes; while hosts still wait and a value they wait for became known (read by a
 * generating host's verification probe), another round probes, plans and applies just those hosts.
 * The run's plan is the first round's; each host's result sums its rounds.
 */
export async function run(compiled: Compiled, transport: Connector, opts: RunOptions): Promise<RunResult> {
  if (opts.mode === 'plan') return runRound(compiled, transport, opts, new Map());
  const quiet = { ...opts, emit: (e: Parameters<RunOptions['emit']>[0]) => e.type !== 'host.done' && opts.emit(e) };
  const first = await runRound(compiled, transport, quiet, new Map());
  const results = new Map(first.results.map((r) => [r.host, r]));
  let values = first.values;
  let last = first.plan;
  const ok = (h: string) => ['changed', 'unchanged'].includes(results.get(h)!.status);
  for (;;) {
    const waiting = last.hosts.filter((hp) => hp.deferred?.length && ok(hp.host));
    const ready = waiting.filter((hp) => hp.deferred!.some((d) => d.waitsFor.some((k) => values.has(k)))).map((hp) => hp.host);
    for (const hp of waiting.filter((w) => !ready.includes(w.host))) {
      const never = [...new Set(hp.deferred!.flatMap((d) => d.waitsFor))];
      results.set(hp.host, { ...results.get(hp.host)!, status: 'failed', error: `waits for ${never.join(', ')}, which no host of this run published (is the generating host in the run, did its role make the value?)` });
    }
    if (!ready.length || opts.signal?.aborted) break;
    const sub: Compiled = { ...compiled, plays: compiled.plays.map((p) => ({ ...p, hosts: p.hosts.filter((h) => ready.includes(h)) })), hosts: new Map([...compiled.hosts].filter(([h]) => ready.includes(h))) };
    const next = await runRound(sub, transport, { ...quiet, savedPlan: undefined }, values);
    for (const r of next.results) {
      const prev = results.get(r.host)!;
      results.set(r.host, {
        ...r,
        status: r.status === 'unchanged' && prev.status === 'changed' ? 'changed' : r.status,
        changes: [...prev.changes, ...r.changes],
        handlers: [...prev.handlers, ...r.handlers],
        warnings: [...new Set([...prev.warnings, ...r.warnings])],
        durationMs: prev.durationMs + r.durationMs,
        execs: prev.execs + r.execs,
      });
    }
    values = next.values;
    last = next.plan;
  }
  const all = first.results.map((r) => results.get(r.host)!);
  all.forEach((r) => opts.emit({ type: 'host.done', result: r }));
  return { plan: first.plan, results: all, values };
}

async function runRound(given: Compiled, transport: Connector, opts: RunOptions, known: ValueTable): Promise<RunResult> {
  // Hosts are compiled again once the probes have read the values and facts they use.
  const compiled: Compiled = { ...given, hosts: new Map(given.hosts) };
  const limit = pLimit(Math.max(1, opts.forks));
  const connect = async (host: string) => {
    const conn = await transport.connect(host);
    return { get execCount() { return conn.execCount; }, run: (script: string) => withDeadline(conn.run(script), opts.execTimeoutMs ?? 600_000, host) };
  };
  const { plan, planned, hostPlans, probed, values, started, execBase } = await probeAndPlan(compiled, connect, limit, opts, known);
  const names = [...compiled.hosts.keys()];

  const applyState = new Map<string, HostApplyState>(names.map((n) => [n, { applied: [], pending: new Set(), ran: [] }]));
  const result = (name: string, r: Partial<HostResult>): HostResult => {
    const hp = hostPlans.get(name)!;
    const ch = compiled.hosts.get(name)!;
    return {
      host: name,
      status: 'unchanged',
      changes: hp.changes,
      // plan: what will run; apply: what ran
      handlers: opts.mode === 'plan' ? hp.handlers : plannedHandlers(ch, applyState.get(name)!.ran),
      warnings: hp.warnings,
      durationMs: Date.now() - (started.get(name) ?? Date.now()),
      execs: hp.execs,
      ...r,
    };
  };

  if (opts.mode === 'plan') {
    const results = plan.hosts.map((hp) =>
      result(hp.host, hp.error ? { status: probed.has(hp.host) ? 'failed' : 'unreachable', error: hp.error } : { status: hostHasWork(hp) ? 'changed' : 'unchanged' }),
    );
    results.forEach((r) => opts.emit({ type: 'host.done', result: r }));
    return { plan, results, values };
  }

  // 3. Apply, play by play.
  const runId = `${Date.now()}-${randomBytes(4).toString('hex')}`;
  const owner = opts.owner ?? 'unknown';
  const failed = new Map<string, HostResult>();
  const verified = new Map<string, HostResult>();
  // Handlers an interrupted run left pending are in the host's handler schedule: work even without changes.
  const hasWork = (h: string) => (planned.get(h)?.changed.length ?? 0) > 0 || (planned.get(h)?.handlerRuns.length ?? 0) > 0;
  const context = (name: string): ApplyContext => {
    const ch = compiled.hosts.get(name)!;
    const hp = hostPlans.get(name)!;
    const record: ApplyContext['record'] = {
      runId, by: owner, playbook: compiled.playbook.file, roles: ch.roles.map((r) => r.role.name), fingerprint: hp.fingerprint, changes: hp.changes.length,
      ...(opts.commit ? { commit: opts.commit } : {}),
    };
    return { runId, owner, generation: hp.records?.generation ?? 0, record };
  };
  /** the host's result from the probe that ended its last apply exec */
  const verdict = (name: string, out: ProbeOutput, execs: number): HostResult => {
    const ch = compiled.hosts.get(name)!;
    const applied = applyState.get(name)!.applied;
    const left = unconverged(ch, out, new Set(hostPlans.get(name)!.skipped.map((s) => s.id)));
    // A host still waiting for a value is checked for health once it has it (the next round).
    const unhealthy = ch.deferred.size ? [] : ch.health.filter((_, i) => out.health[i] !== 0).map((h) => h.name);
    if (left.length) return result(name, { status: 'failed', changes: applied, unconverged: left, error: `did not converge: ${left.map((c) => `${c.id} (${c.summary})`).join('; ')}`, execs });
    if (unhealthy.length) return result(name, { status: 'failed', changes: applied, error: `health check failed: ${unhealthy.join(', ')}`, execs });
    return result(name, { status: 'changed', changes: applied, execs });
  };
  for (const name of names) {
    const hp = hostPlans.get(name)!;
    if (hp.error) failed.set(name, result(name, { status: probed.has(name) ? 'failed' : 'unreachable', error: hp.error, changes: [] }));
  }
  // Between this run's execs on a host (a fresh-login test, other serial batches) the controller
  // renews the lease itself; during an exec the remote shell does (src/apply/scripts.ts).
  const busy = new Map<string, number>();
  const renewer = setInterval(() => {
    for (const [name, st] of applyState) {
      if (!st.locked || busy.get(name)) continue;
      void connect(name).then((c) => c.run(renewLockScript({ runId, owner }))).catch(() => {});
    }
  }, (LEASE_SECONDS / 4) * 1000);
  renewer.unref();
  let aborted = false;
  let interrupted = false;
  const stopped = () => (interrupted ||= opts.signal?.aborted ?? false);
  try {
    for (const play of compiled.plays) {
      if (aborted || stopped()) break;
      const playHosts = play.hosts.filter((h) => compiled.hosts.has(h));
      const bs = batches(playHosts, play.serial);
      let playFailed = playHosts.filter((h) => failed.has(h)).length;
      for (const [bi, batch] of bs.entries()) {
        if (stopped()) break;
        const todo = batch.filter((h) => !failed.has(h) && hasWork(h));
        opts.emit({ type: 'play.batch', play: play.name, batch: bi + 1, batches: bs.length, hosts: batch });
        await Promise.all(
          todo.map((name) =>
            limit(async () => {
              // A host not started when the run was interrupted is left alone (it has not started
              // this play; a host that did, finishes its play).
              const st = applyState.get(name)!;
              if (stopped() && !st.locked) return;
              const ch = compiled.hosts.get(name)!;
              let execs = 0;
              let conn: Awaited<ReturnType<typeof connect>> | undefined;
              try {
                conn = await connect(name);
                const c = conn;
                const remote = {
                  run: async (s: string) => {
                    busy.set(name, (busy.get(name) ?? 0) + 1);
                    try {
                      return await c.run(s);
                    } finally {
                      busy.set(name, busy.get(name)! - 1);
                      execs = c.execCount - (execBase.get(name) ?? 0);
                    }
                  },
                  testFreshLogin: () => transport.testFreshLogin(name),
                };
                const verify = lastPlay(ch, planned.get(name)!) === play.index ? verifyProbe(ch) : undefined;
                await applyPlay(ch, planned.get(name)!, play.index, remote, context(name), st, opts.emit, verify);
                if (st.verified) {
                  readValues(ch, st.verified, values);
                  const v = verdict(name, st.verified, execs);
                  if (v.status === 'failed') {
                    failed.set(name, v);
                    playFailed++;
                    await finish(conn, name, v.error!);
                  } else verified.set(name, v);
                }
              } catch (e) {
                const msg = e instanceof HostFailure ? e.message : `apply failed: ${(e as Error).message}`;
                // A step that failed cleanly: record the failure and release the lock now. A host that
                // timed out or went away keeps its lock until its lease runs out (its remote step may
                // still be running).
                if (e instanceof HostFailure && conn) await finish(conn, name, msg);
                st.locked = false; // the controller stops renewing: a lost host's lease runs out
                failed.set(name, result(name, { status: 'failed', error: msg, changes: st.applied, execs: conn ? conn.execCount - (execBase.get(name) ?? 0) : execs }));
                playFailed++;
              }
            }),
          ),
        );
        if (play.maxFailPercentage !== undefined && playHosts.length && (playFailed * 100) / playHosts.length > play.maxFailPercentage) {
          opts.emit({ type: 'budget.exceeded', play: play.name, failed: playFailed, total: playHosts.length, maxFailPercentage: play.maxFailPercentage });
          aborted = true;
          break;
        }
      }
    }
  } finally {
    clearInterval(renewer);
  }

  /** After a failure: the record says so, and the lock is released (one small exec). */
  async function finish(conn: { run(s: string): Promise<unknown> }, name: string, error: string): Promise<void> {
    const st = applyState.get(name)!;
    if (!st.tookLock) return; // refused by another run's lock, or never started: not ours to record
    const ctx = context(name);
    const rec: RunRecord = { ...ctx.record, at: new Date().toISOString(), result: `failed: ${error.split('\n')[0]}`, changes: st.applied.length };
    const steps = [{ label: 'record', script: recordScript(rec) }, ...(st.locked ? [{ label: 'release lock', script: releaseLockScript(ctx) }] : [])];
    try {
      await conn.run(stepsScript(steps).script);
      st.locked = false;
    } catch {
      // the host is gone: its lease runs out by itself
    }
  }

  // 4. Results. Changed hosts were verified at the end of their last apply exec; hosts with nothing
  //    to change were verified by the first probe.
  const results = names.map((name): HostResult => {
    const done = failed.get(name) ?? verified.get(name);
    if (done) return done;
    const p = planned.get(name)!;
    const st = applyState.get(name)!;
    if (hasWork(name)) {
      const why = interrupted ? 'the run was interrupted' : aborted ? 'the failure budget of a play was exceeded' : '';
      if (!st.execs) return result(name, { status: 'not-run', changes: [], error: `not applied${why ? `: ${why}` : ''}` });
      // Part of its plays ran: what ran is recorded on the host (pending handlers included).
      return result(name, { status: 'failed', changes: st.applied, error: `applied in part${why ? ` (${why})` : ''}: the verification probe did not run; plan again` });
    }
    const unhealthy = p.plan.unhealthy;
    if (unhealthy.length) return result(name, { status: 'failed', changes: [], error: `health check failed: ${unhealthy.join(', ')}` });
    return result(name, { status: 'unchanged', changes: [] });
  });
  results.forEach((r) => opts.emit({ type: 'host.done', result: r }));
  return { plan, results, values };
}

/**
 * The play after which nothing more changes on this host: its apply exec ends with the verification.
 * Handlers an interrupted run left pending run in the play of the role that defines them.
 */
function lastPlay(ch: CompiledHost, p: PlannedHost): number {
  const playOfRole = new Map(ch.roles.map((r) => [r.role.name, r.play]));
  return Math.max(-1, ...p.handlerRuns.map((h) => h.play), ...p.changed.map((i) => playOfRole.get(ch.roleOf.get(ch.resources[i]!.id)!)!));
}

const verifyProbe = (ch: CompiledHost) => buildProbeScript({ resources: ch.resources, health: ch.health, diskPaths: [], withFacts: false, healthRetries: true, extras: ch.extras });

/** A hung remote command (a stuck package manager, a unit that never starts) fails its host, not the run. */
function withDeadline<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${host} did not answer within ${Math.round(ms / 1000)} s (--exec-timeout); the remote command may still be running`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
