// Compile inventory + playbook + roles into each host's desired state: roles in order, typed vars,
// resources, handlers, health checks. Pure and offline: `provision check` is exactly this.
import { createHash } from 'node:crypto';
import type { TObject } from '@sinclair/typebox';
import type { Inventory, Host } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import type { HealthCheck, HostView, Opening, RoleContext, RoleDefinition } from '../roles/types.js';
import type { Handler, Resource } from '../resources/types.js';
import { matchHosts, PatternError } from '../inventory/pattern.js';
import { availableRoles, loadRole, repoRoot } from '../roles/registry.js';
import { renderTemplate } from '../roles/template.js';
import { InputError, ProblemList } from '../input/errors.js';
import { resolveRoleVars } from './role-vars.js';
import { carriesSecret } from '../secrets/value.js';
import { checkPlacementOffline, checkSizingOffline } from './rules.js';
import path from 'node:path';
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
  /** paths whose disk size sizing checks ask about */
  diskPaths: string[];
  /** sha256 of the desired state (saved plans are refused when it moved) */
  desiredHash: string;
  warnings: string[];
  /** the release the roles were compiled for (ctx.release); undefined: they give the same on every release */
  release?: Release;
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
  checkPlacementOffline(inv, views, defs, problems);
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
  for (const name of inRun) {
    const host = inv.hosts.get(name)!;
    const roleList = (rolesOf.get(name) ?? []).filter((r) => plays.some((p) => p.index === r.play && p.hosts.includes(name)));
    try {
      const build = (release: Release) => compileHost(host, rolesOf.get(name) ?? [], roleList, views.get(name)!, inventoryView, opts.controllerAddresses ?? [], warnings.get(name) ?? [], release);
      hosts.set(name, compileForRelease(host, roleList, inv.lab !== undefined, path.join(inv.dir, 'hosts.yaml'), build));
    } catch (e) {
      if (e instanceof InputError) e.problems.forEach((p) => problems.add(p));
      else problems.add({ file: `roles/${(rolesOf.get(name) ?? []).map((r) => r.role.name).join(',')}`, at: `host ${name}`, expected: 'roles that build their resources', found: (e as Error).message });
    }
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
  if (pinned) return { ...build(pinned), release: pinned };
  const candidates = SUPPORTED_RELEASES.filter((rel) => roles.every((r) => !r.role.releases || r.role.releases.includes(rel)));
  const built = (candidates.length ? candidates : SUPPORTED_RELEASES).map((rel) => ({ rel, ch: build(rel) }));
  const first = built[0]!;
  const other = built.find((b) => b.ch.desiredHash !== first.ch.desiredHash);
  if (!other) return first.ch;
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
): CompiledHost {
  const base = {
    host: view,
    inventory,
    loginUser: host.user,
    controllerAddresses,
    release,
    repoPath: (rel: string) => path.join(repoRoot, rel),
  };
  // Openings come from every role of the host, even those outside this run: the firewall must not
  // close a port because --tags left a play out.
  const openings: Opening[] = allRoles.flatMap((hr) => hr.role.openings?.({ ...base, vars: hr.vars }) ?? []);
  const resources: Resource[] = [];
  const roleOf = new Map<string, string>();
  const handlers = new Map<string, CompiledHandler>();
  const health: HealthCheck[] = [];
  const diskPaths = new Set<string>();
  for (const hr of runRoles) {
    const ctx: RoleContext<unknown> = { ...base, vars: hr.vars, openings, template: (n, data) => renderTemplate(hr.role, n, data) };
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
    health.push(...(hr.role.health?.(ctx as never) ?? []));
    if (hr.role.sizing?.diskPath) diskPaths.add(hr.role.sizing.diskPath);
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
  return { host, roles: runRoles, resources, roleOf, handlers, health, diskPaths: [...diskPaths], desiredHash, warnings: [...warnings] };
}
