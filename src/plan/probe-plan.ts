// Planning, as one unit: probe every host of a round (ONE exec each: facts, resources, health,
// published values, role facts), compile again the hosts that use what the probes read (other
// hosts' values, their roles' facts), plan each host (pure: src/plan/planner.ts), then the checks
// across hosts (placement on machine-ids) and against a saved plan. It changes nothing on a host;
// applying (src/apply/run.ts) starts from what it returns.
import fs from 'node:fs';
import path from 'node:path';
import type pLimit from 'p-limit';
import { redact } from '../secrets/value.js';
import type { Compiled, CompiledHost } from './compile.js';
import { planFromProbe, readValues, withProbed, type PlannedHost } from './planner.js';
import { buildProbeScript, type ProbeOutput } from './probe-script.js';
import { checkPlacementOnline } from './rules.js';
import type { Plan, HostPlan, PlannedHandler } from './types.js';
import type { ValueTable } from './values.js';
import type { HostView, RoleDefinition } from '../roles/types.js';
import type { Emit } from '../apply/events.js';

export interface PlanningOptions {
  emit: Emit;
  /** a saved plan to apply exactly: hosts whose state or desired state moved since are refused */
  savedPlan?: Plan;
  /** write each host's parsed probe output to this directory (fixtures for planner unit tests) */
  recordProbesTo?: string;
}

export interface Planning {
  plan: Plan;
  /** per host: its plan with the parsed states the executor applies from */
  planned: Map<string, PlannedHost>;
  hostPlans: Map<string, HostPlan>;
  /** hosts whose probe answered (a plan error then fails the host; without an answer it is unreachable) */
  probed: Set<string>;
  /** published values as the probes read them (on top of `known`) */
  values: ValueTable;
  /** when each host's probe started, and its exec count before it */
  started: Map<string, number>;
  execBase: Map<string, number>;
}

type Connect = (host: string) => Promise<{ run(script: string): Promise<{ stdout: string }>; readonly execCount: number }>;

/** `compiled.hosts` is updated in place with the hosts compiled again from what the probes read. */
export async function probeAndPlan(compiled: Compiled, connect: Connect, limit: ReturnType<typeof pLimit>, opts: PlanningOptions, known: ValueTable): Promise<Planning> {
  const names = [...compiled.hosts.keys()];
  const started = new Map<string, number>();
  const planned = new Map<string, PlannedHost>();
  const hostPlans = new Map<string, HostPlan>();
  const execBase = new Map<string, number>();
  const outputs = new Map<string, { out: ProbeOutput; execs: number }>();

  // 1. Probe.
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const ch = compiled.hosts.get(name)!;
        started.set(name, Date.now());
        opts.emit({ type: 'host.probing', host: name });
        try {
          const conn = await connect(name);
          execBase.set(name, conn.execCount);
          const probe = buildProbeScript({ resources: ch.resources, health: ch.health, diskPaths: ch.diskPaths, withFacts: true, extras: ch.extras });
          const res = await conn.run(probe.script);
          const output = probe.parse(res.stdout);
          if (opts.recordProbesTo) recordProbe(opts.recordProbesTo, name, output);
          outputs.set(name, { out: output, execs: conn.execCount - execBase.get(name)! });
        } catch (e) {
          hostPlans.set(name, noPlan(name, (e as Error).message));
        }
      }),
    ),
  );

  // 1b. Plan (pure): with the values every host published, and each host's role facts.
  const values: ValueTable = new Map(known);
  for (const [name, o] of outputs) readValues(compiled.hosts.get(name)!, o.out, values);
  for (const [name, o] of outputs) {
    try {
      const ch = withProbed(compiled.hosts.get(name)!, o.out, values);
      compiled.hosts.set(name, ch);
      const p = planFromProbe(ch, o.out, o.execs);
      planned.set(name, p);
      hostPlans.set(name, p.plan);
    } catch (e) {
      hostPlans.set(name, noPlan(name, (e as Error).message));
    }
  }

  // 2. Checks across hosts, with facts.
  const views = new Map<string, HostView>();
  const defs = new Map<string, RoleDefinition>();
  for (const ch of compiled.hosts.values()) {
    views.set(ch.host.name, { name: ch.host.name, address: ch.host.address, groups: ch.host.groups, roles: ch.roles.map((r) => r.role.name), provider: ch.host.spec.provider ?? 'unknown' });
    ch.roles.forEach((r) => defs.set(r.role.name, r.role));
  }
  const machineIds = new Map([...planned].map(([h, p]) => [h, p.plan.facts?.machineId ?? '']));
  for (const [h, msgs] of checkPlacementOnline(machineIds, views, defs)) {
    const hp = hostPlans.get(h)!;
    hp.error = [hp.error, ...msgs].filter(Boolean).join('; ');
  }
  if (opts.savedPlan) refuseDrift(opts.savedPlan, compiled, hostPlans);

  const plan: Plan = {
    version: 1,
    inventory: compiled.inventory.dir,
    playbook: compiled.playbook.file,
    desired: Object.fromEntries([...compiled.hosts].map(([h, ch]) => [h, ch.desiredHash])),
    hosts: names.map((n) => hostPlans.get(n)!),
    createdAt: new Date().toISOString(),
  };
  for (const hp of plan.hosts) opts.emit({ type: 'host.planned', host: hp.host, changes: hp.changes.length, error: hp.error });
  return { plan, planned, hostPlans, probed: new Set(outputs.keys()), values, started, execBase };
}

const noPlan = (host: string, error: string): HostPlan => ({ host, error, changes: [], handlers: [], skipped: [], warnings: [], unhealthy: [], fingerprint: '', execs: 0 });

function recordProbe(dir: string, host: string, output: ProbeOutput): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${host}.json`), redact(JSON.stringify(output, null, 1)) + '\n');
}

const handlerList = (hs: PlannedHandler[]): string => hs.map((h) => `${h.name} ← ${h.notifiedBy.join(', ')}`).join('; ');

function refuseDrift(saved: Plan, compiled: Compiled, hostPlans: Map<string, HostPlan>): void {
  for (const hp of hostPlans.values()) {
    if (hp.error) continue;
    const old = saved.hosts.find((h) => h.host === hp.host);
    const ch: CompiledHost = compiled.hosts.get(hp.host)!;
    if (!old) hp.error = 'not in the saved plan: make a new plan';
    else if (saved.desired[hp.host] !== ch.desiredHash) hp.error = 'the desired state (inventory, playbook or roles) changed since the plan was saved: make a new plan';
    else if (old.fingerprint !== hp.fingerprint) hp.error = 'the host drifted since the plan was saved (its probed state differs): make a new plan';
    else if (handlerList(old.handlers ?? []) !== handlerList(hp.handlers)) {
      // Same state and same roles give the same handlers; a plan saved by another version may not.
      hp.error = `apply would run handlers [${handlerList(hp.handlers)}] but the saved plan lists [${handlerList(old.handlers ?? [])}]: make a new plan`;
    }
  }
}
