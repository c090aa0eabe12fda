// Compile inventory + playbook + roles into each host's desired state: roles in order, typed vars,
// resources, handlers, health checks. Pure and offline: `provision check` is exactly this.
import { createHash } from 'node:crypto';
import type { TObject } from '@sinclair/typebox';
import type { Inventory, Host } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import type { HealthCheck, HostState, HostView, Opening, RoleCheck, RoleContext, RoleDefinition } from '../roles/types.js';
import type { Handler, Resource } from '../resources/types.js';
import { matchHosts, PatternError } from '../inventory/pattern.js';
import { availableRoles, loadRole, repoRoot } from '../roles/registry.js';
import { renderTemplate } from '../roles/template.js';
import { InputError, ProblemList } from '../input/errors.js';
import { resolveRoleVars } from './role-vars.js';
import { carriesSecret } from '../secrets/value.js';
import { checkPlacementOffline, checkSizingOffline } from './rules.js';
import path from 'node:path';
import { findCycles, missingRef, placeholder, valueKey, VALUE_SAFE_PROBES, type ExtraProbe, type ValueRef, type ValueTable } from './values.js';
import { DEFAULT_RELEASE, SUPPORTED_RELEASES, type Release } from '../facts/release.js';

export interface HostRole {
  role: RoleDefinition;
  vars: Record<string, unknown>;
  /** index of the play that brings this role to the host (first one wins) */
  play: number;
}

export interface CompiledHost {
  host: Host;
  roles: HostRole[];
  resources: Resource[];
  /** resource id → role name (for the executor: which play applies it) */
  roleOf: Map<string, string>;
  /** handler name → its definition and the role defining it, in the order the roles define them (the order they run) */
  handlers: Map<string, CompiledHandler>;
  health: HealthCheck[];
  /** what the host's roles declare must survive the loss of the machine (snapshots, rebuild) */
  state: HostState[];
  /** paths whose disk size sizing checks ask about */
  diskPaths: string[];
  /** sha256 of the desired state (saved plans are refused when it moved) */
  desiredHash: string;
  warnings: string[];
  /** published values and role facts: extra sections of the host's probe (src/plan/values.ts) */
  extras: ExtraProbe[];
  /** resource id → the values not known yet that its desired state holds: it plans "(known after apply)" */
  deferred: Map<string, ValueRef[]>;
  /** the roles' checks of the host's facts (only once facts were probed: rebuild) */
  checks: RoleCheck[];
  /** this host compiled again with values read by the probes and its roles' facts */
  rebuild(values: ValueTable, facts: Map<string, Map<string, unknown>>): CompiledHost;
  /** published value → the values the resources making it read (for cycles) */
  valueEdges: Map<string, string[]>;
  /** the release the roles were compiled for (ctx.release); undefined: they give the same on every release (set by compileForRelease) */
  release?: Release;
}

/** What a role may read beyond its own host: other hosts' roles, vars and published values. */
export interface ValueEnv {
  rolesOf: Map<string, HostRole[]>;
  hostExists(name: string): boolean;
  /** the accounts every role of the playbook declares (ctx.systemAccounts): one list for the whole inventory */
  systemAccounts: string[];
  values: ValueTable;
  /** role → fact → parsed value; undefined before the probe */
  facts?: Map<string, Map<string, unknown>>;
}

export interface CompiledHandler extends Handler {
  role: string;
}

export interface Compiled {
  inventory: Inventory;
  playbook: Playbook;
  /** plays with their hosts (after --limit and --tags) */
  plays: { index: number; name: string; hosts: string[]; serial: Playbook['plays'][number]['serial']; maxFailPercentage?: number; roles: string[] }[];
  hosts: Map<string, CompiledHost>;
}

export interface CompileOptions {
  limit?: string;
  tags?: string[];
  /** addresses the controller connects from; the lab uses its gateway address */
  controllerAddresses?: string[];
}

export async function compile(inv: Inventory, pb: Playbook, opts: CompileOptions = {}): Promise<Compiled> {
  const problems = new ProblemList();
  const available = availableRoles(pb.file);
  const known = new Set(available.keys());
  const defs = new Map<string, RoleDefinition>();

  // 1. Plays: role names and host patterns.
  const playHosts: string[][] = [];
  for (const play of pb.plays) {
    play.roles.forEach((r, i) => {
      if (!known.has(r.name)) {
        problems.add({ file: pb.file, at: `${play.index}.roles.${i}`, expected: `a role under roles/ (${[...known].join(', ')})`, found: `unknown role "${r.name}"`, line: pb.lineOf([play.index, 'roles', i]) });
      }
    });
    try {
      playHosts.push(matchHosts(inv, play.pattern));
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      problems.add({ file: pb.file, at: `${play.index}.hosts`, expected: 'a pattern of inventory groups or hosts', found: e.message, line: pb.lineOf([play.index, 'hosts']) });
      playHosts.push([]);
    }
  }
  problems.throwIfAny();
  for (const name of new Set(pb.plays.flatMap((p) => p.roles.map((r) => r.name)))) defs.set(name, await loadRole(available.get(name)!));

  // 2. Roles per host, over ALL plays (placement and firewall openings see the whole picture, whatever --limit says).
  const rolesOf = new Map<string, HostRole[]>();
  pb.plays.forEach((play, pi) => {
    for (const h of playHosts[pi]!) {
      const list = rolesOf.get(h) ?? [];
      for (const r of play.roles) {
        const prior = list.find((x) => x.role.name === r.name);
        if (prior) {
          if (JSON.stringify(pb.plays[prior.play]!.roles.find((x) => x.name === r.name)!.vars) !== JSON.stringify(r.vars)) {
            problems.add({ file: pb.file, at: `${play.index}.roles`, expected: `role "${r.name}" given the same vars wherever it applies to host ${h}`, found: `different vars than in play "${pb.plays[prior.play]!.name}"`, line: pb.lineOf([play.index, 'roles']) });
          }
          continue;
        }
        list.push({ role: defs.get(r.name)!, vars: r.vars, play: pi });
      }
      rolesOf.set(h, list);
    }
  });

  // 3. Vars: every key in the inventory vars must be a role; every role's vars must match its schema.
  for (const host of inv.hosts.values()) {
    for (const src of host.varSources) {
      for (const key of Object.keys(src.data)) {
        if (!known.has(key)) problems.add({ file: src.file, at: key, expected: `a role name as top-level key (${[...known].join(', ')})`, found: `"${key}"`, line: src.lineOf([key]) });
      }
    }
  }
  problems.throwIfAny();
  for (const [h, list] of rolesOf) {
    const host = inv.hosts.get(h)!;
    for (const hr of list) hr.vars = resolveRoleVars(host, hr.role.name, hr.role.vars as TObject, hr.vars, pb, hr.play, problems, inv.lab?.allow_plaintext_secrets_for_lab_only === true);
  }
  problems.throwIfAny();

  // 4. Placement and sizing, on the inventory alone.
  const views = new Map<string, HostView>();
  for (const host of inv.hosts.values()) {
    views.set(host.name, { name: host.name, address: host.address, groups: host.groups, roles: (rolesOf.get(host.name) ?? []).map((r) => r.role.name), provider: host.spec.provider ?? 'unknown', jump: host.jump });
  }
  const warnings = new Map<string, string[]>();
  checkPlacementOffline(inv, views, defs, problems, known);
  checkSizingOffline(inv, rolesOf, problems, warnings);
  problems.throwIfAny();

  // 5. Which hosts this run touches (--limit, --tags).
  const limited = opts.limit ? new Set(limitHosts(inv, opts.limit)) : undefined;
  const plays = pb.plays
    .map((play, pi) => ({ index: play.index, name: play.name, hosts: playHosts[pi]!.filter((h) => !limited || limited.has(h)), serial: play.serial, maxFailPercentage: play.maxFailPercentage, roles: play.roles.map((r) => r.name), tags: play.tags }))
    .filter((p) => !opts.tags?.length || p.tags.some((t) => opts.tags!.includes(t)));
  const inRun = new Set(plays.flatMap((p) => p.hosts));

  // 6. Desired state of each host in the run.
  const hostList = [...views.values()];
  const inventoryView = { hosts: hostList, group: (g: string) => hostList.filter((h) => h.groups.includes(g)) };
  const hosts = new Map<string, CompiledHost>();
  const systemAccounts = [...new Set([...rolesOf.values()].flatMap((l) => l.flatMap((hr) => hr.role.accounts ?? [])))].sort();
  const env: ValueEnv = { rolesOf, hostExists: (h) => inv.hosts.has(h), systemAccounts, values: new Map() };
  for (const name of inRun) {
    const host = inv.hosts.get(name)!;
    const roleList = (rolesOf.get(name) ?? []).filter((r) => plays.some((p) => p.index === r.play && p.hosts.includes(name)));
    try {
      const build = (release: Release) => compileHost(host, rolesOf.get(name) ?? [], roleList, views.get(name)!, inventoryView, opts.controllerAddresses ?? [], warnings.get(name) ?? [], release, env);
      hosts.set(name, compileForRelease(host, roleList, inv.lab !== undefined, path.join(inv.dir, 'hosts.yaml'), build));
    } catch (e) {
      if (e instanceof InputError) e.problems.forEach((p) => problems.add(p));
      else problems.add({ file: `roles/${(rolesOf.get(name) ?? []).map((r) => r.role.name).join(',')}`, at: `host ${name}`, expected: 'roles that build their resources', found: (e as Error).message });
    }
  }
  problems.throwIfAny();
  // 7. One handler name means one thing: the plan lists handlers by name across hosts.
  const handlerDefs = new Map<string, CompiledHandler>();
  for (const ch of hosts.values()) {
    for (const [name, h] of ch.handlers) {
      const prior = handlerDefs.get(name);
      if (prior && prior.role !== h.role && prior.script !== h.script) {
        problems.add({ file: pb.file, at: `handler "${name}"`, expected: 'one definition per handler name', found: `roles ${prior.role} and ${h.role} define it differently` });
      }
      if (!prior) handlerDefs.set(name, h);
    }
  }
  // 8. Values that wait on each other in a circle can never be made.
  const edges = new Map([...hosts.values()].flatMap((h) => [...h.valueEdges]));
  for (const cycle of findCycles(edges)) {
    problems.add({ file: pb.file, at: `host ${cycle[0]!.split(' ')[0]}`, expected: 'published values that do not wait on each other', found: `a cycle: ${cycle.join(' waits for ')}` });
  }
  problems.throwIfAny();
  return { inventory: inv, playbook: pb, plays, hosts };
}

function limitHosts(inv: Inventory, limit: string): string[] {
  try {
    return matchHosts(inv, limit);
  } catch (e) {
    throw new InputError([{ file: inv.dir, at: '--limit', expected: 'a pattern of inventory groups or hosts', found: (e as Error).message }]);
  }
}

/**
 * Roles see the host's release (ctx.release) before the probe has read it: a pinned host (spec.os)
 * is compiled for its pin, an unpinned lab host for the release the lab boots. Any other host is
 * compiled for every release its roles support: one result serves whatever it runs; different
 * results need a pin, asked for here, before any connection (docs/releases.md).
 */
function compileForRelease(host: Host, roles: HostRole[], lab: boolean, hostsFile: string, build: (release: Release) => CompiledHost): CompiledHost {
  const pinned = host.spec.os ?? (lab ? DEFAULT_RELEASE : undefined);
  if (pinned) return build(pinned);
  const candidates = SUPPORTED_RELEASES.filter((rel) => roles.every((r) => !r.role.releases || r.role.releases.includes(rel)));
  const built = (candidates.length ? candidates : SUPPORTED_RELEASES).map((rel) => ({ rel, ch: build(rel) }));
  const first = built[0]!;
  const other = built.find((b) => b.ch.desiredHash !== first.ch.desiredHash);
  // the same on every release: say so (no release), and keep saying it when values or facts rebuild the host
  const anyRelease = (ch: CompiledHost): CompiledHost => ({ ...ch, release: undefined, rebuild: (v, f) => anyRelease(ch.rebuild(v, f)) });
  if (!other) return anyRelease(first.ch);
  const differs = first.ch.resources.find((r) => other.ch.resources.find((x) => x.id === r.id)?.desired !== r.desired)?.id ?? 'handlers or health checks';
  throw new InputError([
    {
      file: hostsFile,
      at: `hosts.${host.name}.spec.os`,
      expected: `a release pinned for this host: its roles configure ${first.rel} and ${other.rel} differently (${differs}; role ${first.ch.roleOf.get(differs) ?? '?'})`,
      found: 'no spec.os',
    },
  ]);
}

function compileHost(
  host: Host,
  allRoles: HostRole[],
  runRoles: HostRole[],
  view: HostView,
  inventory: RoleContext<unknown>['inventory'],
  controllerAddresses: string[],
  warnings: string[],
  release: Release,
  env: ValueEnv,
): CompiledHost {
  const base = {
    host: view,
    inventory,
    loginUser: host.user,
    systemAccounts: env.systemAccounts,
    controllerAddresses,
    release,
    repoPath: (rel: string) => path.join(repoRoot, rel),
  };
  // What each role reads from other hosts; references to nothing are errors naming both ends.
  const refProblems = new ProblemList();
  const reads = new Map<string, Map<string, ValueRef>>();
  let unknownRead = false;
  const nameOf = (h: string | HostView) => (typeof h === 'string' ? h : h.name);
  const reading = (hr: HostRole, variant: 0 | 1) => ({
    hostValue: (h: string | HostView, role: string, name: string): string => {
      const ref = { host: nameOf(h), role, name };
      const missing = missingRef(ref, env.rolesOf, env.hostExists);
      if (missing) {
        refProblems.add({ file: `roles/${hr.role.name}`, at: `host ${host.name}: ctx.hostValue(${ref.host}, ${role}, ${name})`, expected: 'a value a role of that host publishes', found: missing });
        return placeholder(ref, variant);
      }
      const known = env.values.get(valueKey(ref));
      if (known !== undefined) return known;
      unknownRead = true;
      const list = reads.get(hr.role.name) ?? new Map<string, ValueRef>();
      reads.set(hr.role.name, list.set(valueKey(ref), ref));
      return placeholder(ref, variant);
    },
    varsOf: (h: string | HostView, role: string): Record<string, unknown> => {
      const other = env.rolesOf.get(nameOf(h))?.find((r) => r.role.name === role);
      if (!other) refProblems.add({ file: `roles/${hr.role.name}`, at: `host ${host.name}: ctx.varsOf(${nameOf(h)}, ${role})`, expected: 'a host of the inventory carrying that role', found: env.hostExists(nameOf(h)) ? `host ${nameOf(h)} has no role "${role}"` : `no host "${nameOf(h)}"` });
      return (other?.vars ?? {}) as Record<string, unknown>;
    },
    fact: <T>(name: string): T | undefined => {
      const declared = hr.role.facts?.({ host: view, vars: hr.vars }) ?? {};
      if (!declared[name]) throw new Error(`role ${hr.role.name} reads fact "${name}" but declares no such fact (its facts: ${Object.keys(declared).join(', ') || 'none'})`);
      return env.facts?.get(hr.role.name)?.get(name) as T | undefined;
    },
  });
  const first = buildRoles(host, allRoles, runRoles, base, reading, 0, env.facts !== undefined);
  refProblems.throwIfAny();
  const { resources, roleOf, handlers, health, diskPaths, checks, state } = first;
  // A value not known yet: build again with other placeholders — the resources that moved hold one.
  const deferred = new Map<string, ValueRef[]>();
  if (unknownRead) {
    const second = buildRoles(host, allRoles, runRoles, base, reading, 1, env.facts !== undefined);
    const ids = (b: typeof first) => b.resources.map((r) => r.id).join('\n');
    if (ids(first) !== ids(second)) throw new Error(`the resources of host ${host.name} differ by a value not known yet (${[...reads.values()].flatMap((m) => [...m.keys()]).join(', ')}): a host value may go into a resource's content, not decide which resources exist`);
    if (JSON.stringify([...first.handlers, first.health]) !== JSON.stringify([...second.handlers, second.health])) throw new Error(`a handler or health check of host ${host.name} holds a value not known yet (${[...reads.values()].flatMap((m) => [...m.keys()]).join(', ')}): read it from a file a resource writes`);
    first.resources.forEach((r, i) => {
      if (r.desired === second.resources[i]!.desired) return;
      // The probe ran before the value was known: only a probe that reads the same state whatever the value may plan it.
      if (r.probe() !== second.resources[i]!.probe() && !VALUE_SAFE_PROBES.has(r.type)) throw new Error(`${r.id} (role ${roleOf.get(r.id)}) holds a value not known before the probe, and its probe depends on it: put host values into a file's content (or a template)`);
      deferred.set(r.id, [...(reads.get(roleOf.get(r.id)!)?.values() ?? [])]);
    });
  }
  // Published values and role facts are read by the same probe (values of every role, facts of those in the run).
  const extras: ExtraProbe[] = [
    ...allRoles.flatMap((hr) => Object.entries(hr.role.publishes ?? {}).map(([name, v]) => ({ kind: 'value' as const, role: hr.role.name, name, probe: v.probe }))),
    ...runRoles.flatMap((hr) => Object.entries(hr.role.facts?.({ host: view, vars: hr.vars }) ?? {}).map(([name, f]) => ({ kind: 'fact' as const, role: hr.role.name, name, probe: f.probe, parse: f.parse }))),
  ];
  const valueEdges = new Map<string, string[]>();
  for (const hr of runRoles) {
    for (const [name, v] of Object.entries(hr.role.publishes ?? {})) {
      for (const id of v.madeBy ?? []) {
        if (roleOf.get(id) !== hr.role.name) throw new Error(`role ${hr.role.name} publishes "${name}" made by ${id}, which is not one of its resources on host ${host.name}`);
      }
      const waits = (v.madeBy ?? []).flatMap((id) => (deferred.get(id) ?? []).map(valueKey));
      if (waits.length) valueEdges.set(valueKey({ host: host.name, role: hr.role.name, name }), [...new Set(waits)]);
    }
  }
  for (const r of resources) {
    for (const n of r.notify) if (!handlers.has(n)) throw new Error(`resource ${r.id} notifies handler "${n}", which no role of host ${host.name} defines`);
  }
  // Handlers and health checks are shown and run as plain scripts: a secret there would be printed
  // or put on a command line. Resources (file content, a command's stdin) are where secrets go.
  for (const [name, h] of handlers) if (carriesSecret(h.script) || carriesSecret(h.effect)) throw new Error(`handler "${name}" carries a secret: write it to a 0600 file or give it to a command resource's stdin`);
  for (const h of health) if (carriesSecret(h)) throw new Error(`health check "${h.name}" carries a secret: read it from a 0600 file on the host instead`);
  const desiredHash = createHash('sha256')
    .update(JSON.stringify({ r: resources.map((r) => [r.id, r.desired]), h: [...handlers].map(([n, h]) => [n, h.script]), c: health }))
    .digest('hex');
  return {
    host, roles: runRoles, resources, roleOf, handlers, health, state, diskPaths: [...diskPaths], desiredHash, warnings: [...warnings], extras, deferred, checks, valueEdges,
    release,
    rebuild: (values, facts) => compileHost(host, allRoles, runRoles, view, inventory, controllerAddresses, warnings, release, { ...env, values, facts }),
  };
}

/**
 * Each role of the run, in order: its handlers, resources, health checks (and checks, once facts
 * are known). Exported for the role unit tests, which build roles through this same code.
 */
export function buildRoles(
  host: Pick<Host, 'name'>,
  allRoles: HostRole[],
  runRoles: HostRole[],
  base: Omit<RoleContext<unknown>, 'vars' | 'openings' | 'state' | 'template' | 'hostValue' | 'varsOf' | 'fact'>,
  reading: (hr: HostRole, variant: 0 | 1) => Pick<RoleContext<unknown>, 'hostValue' | 'varsOf' | 'fact'>,
  variant: 0 | 1,
  probed: boolean,
  render: (role: RoleDefinition, name: string, data: object) => string = renderTemplate,
) {
  // Openings come from every role of the host, even those outside this run: the firewall must not
  // close a port because --tags left a play out.
  // State likewise: a snapshot job backs up what every role of the host keeps.
  const state: HostState[] = allRoles.flatMap((hr) => {
    const s = hr.role.state?.({ ...base, ...reading(hr, variant), vars: hr.vars });
    return s ? [checkState(hr.role.name, s)] : [];
  });
  const openings: Opening[] = allRoles.flatMap((hr) => checkOpenings(host, allRoles, hr, hr.role.openings?.({ ...base, ...reading(hr, variant), vars: hr.vars, state }) ?? []));
  const resources: Resource[] = [];
  const roleOf = new Map<string, string>();
  const handlers = new Map<string, CompiledHandler>();
  const health: HealthCheck[] = [];
  const diskPaths = new Set<string>();
  const checks: RoleCheck[] = [];
  /** the role of each health check */
  const healthOf: string[] = [];
  for (const hr of runRoles) {
    const ctx: RoleContext<unknown> = { ...base, ...reading(hr, variant), vars: hr.vars, openings, state, template: (n, data) => render(hr.role, n, data) };
    for (const [name, h] of Object.entries(hr.role.handlers?.(ctx as never) ?? {})) {
      const prior = handlers.get(name);
      if (prior) {
        if (prior.script !== h.script) throw new Error(`handler "${name}" is defined differently by two roles of host ${host.name} (${prior.role} and ${hr.role.name})`);
        continue;
      }
      handlers.set(name, { script: h.script, effect: h.effect, ...(h.restarts ? { restarts: h.restarts } : {}), role: hr.role.name });
    }
    for (const r of hr.role.resources(ctx as never)) {
      const prior = resources.find((x) => x.id === r.id);
      if (prior) {
        // Two roles may need the same thing (both install rsyslog): fine when they want it the same way.
        if (prior.desired === r.desired) continue;
        throw new Error(`resource ${r.id} is declared twice on host ${host.name}, differently (roles ${roleOf.get(r.id)} and ${hr.role.name})`);
      }
      roleOf.set(r.id, hr.role.name);
      resources.push(r);
    }
    const own = hr.role.health?.(ctx as never) ?? [];
    health.push(...own);
    healthOf.push(...own.map(() => hr.role.name));
    if (hr.role.sizing?.diskPath) diskPaths.add(hr.role.sizing.diskPath);
    // Checks judge facts: only once a probe has read them (plan time), never offline.
    if (probed && hr.role.checks) checks.push(...hr.role.checks(ctx as never));
  }
  return { resources, roleOf, handlers, health, healthOf, diskPaths, checks, openings, state };
}


/** Openings need the base role (it renders the firewall), and a private role opens nothing to the internet. */
function checkOpenings(host: Pick<Host, 'name'>, allRoles: HostRole[], hr: HostRole, openings: Opening[]): Opening[] {
  if (!openings.length) return openings;
  const open = openings.filter((o) => o.from === 'any');
  if (hr.role.placement?.private && open.length) {
    throw new Error(`role ${hr.role.name} is private (never reachable from the public internet) but opens ${open.map((o) => `${o.port}/${o.proto}`).join(', ')} to any address on host ${host.name}`);
  }
  if (!allRoles.some((r) => r.role.name === 'base')) {
    throw new Error(`role ${hr.role.name} opens ${openings.map((o) => `${o.port}/${o.proto}`).join(', ')} on host ${host.name}, which has no base role: nothing would render its firewall`);
  }
  return openings;
}

const ABS_PATH = /^(\/[A-Za-z0-9_@%+=:,.-]+)+\/?$/;

/** A state declaration the snapshot job and rebuild can rely on: absolute paths, services named. */
function checkState(role: string, s: HostState | Omit<HostState, 'role'>): HostState {
  const bad = (what: string) => new Error(`role ${role}: state ${what}`);
  if (!Array.isArray(s.paths) || !s.paths.length) throw bad('declares no paths');
  for (const p of s.paths) if (typeof p !== 'string' || !ABS_PATH.test(p) || p.split('/').includes('..')) throw bad(`path "${String(p)}" is not an absolute path`);
  const c = s.consistency;
  if ('dump' in c && !s.paths.includes(c.dump.file)) throw bad(`dump file ${c.dump.file} is not among its paths`);
  if (carriesSecret(s)) throw bad('carries a secret (a dump command is shown and run as a plain script)');
  return { role, ...s };
}
