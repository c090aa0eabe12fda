// Sizing and placement: the rules a role declares, checked twice — offline on the inventory
// (`provision check`) and online with facts (`plan`/`apply`, before any change).
import path from 'node:path';
import type { Inventory, Host } from '../inventory/types.js';
import type { HostView, RoleDefinition, Sizing } from '../roles/types.js';
import type { Facts } from '../facts/types.js';
import type { ProblemList } from '../input/errors.js';
import type { HostRole } from './compile.js';

// ---------- sizing ----------

interface Shortfall {
  field: keyof Omit<Sizing, 'source' | 'diskPath'>;
  need: string;
  have: string;
}

function shortfalls(s: Sizing, have: { cpus?: number; memoryGiB?: number; diskGiB?: number; bandwidthMbps?: number; arch?: string }): Shortfall[] {
  const out: Shortfall[] = [];
  const num = (field: 'cpus' | 'memoryGiB' | 'diskGiB' | 'bandwidthMbps', unit: string) => {
    const need = s[field];
    const got = have[field];
    if (need !== undefined && got !== undefined && got < need) out.push({ field, need: `≥ ${need}${unit}`, have: `${got}${unit}` });
  };
  num('cpus', ' CPUs');
  num('memoryGiB', ' GiB memory');
  num('diskGiB', ` GiB disk${s.diskPath ? ` at ${s.diskPath}` : ''}`);
  num('bandwidthMbps', ' Mbps');
  if (s.arch && have.arch && !s.arch.includes(have.arch)) out.push({ field: 'arch', need: s.arch.join(' or '), have: have.arch });
  return out;
}

export function checkSizingOffline(inv: Inventory, rolesOf: Map<string, HostRole[]>, problems: ProblemList, warnings: Map<string, string[]>): void {
  const file = path.join(inv.dir, 'hosts.yaml');
  for (const [name, roles] of rolesOf) {
    const host = inv.hosts.get(name)!;
    for (const { role } of roles) {
      if (!role.sizing) continue;
      for (const s of shortfalls(role.sizing, host.spec)) {
        const msg = `role ${role.name} needs ${s.need} (${role.sizing.source})`;
        if (host.sizing === 'warn') warnings.set(name, [...(warnings.get(name) ?? []), `undersized (inventory spec): ${msg}; has ${s.have}`]);
        else problems.add({ file, at: `hosts.${name}.spec.${s.field}`, expected: msg, found: s.have });
      }
    }
  }
}

/** Sizing against facts. Returns messages; the planner fails the host or warns (sizing: warn). */
export function checkSizingOnline(roles: RoleDefinition[], facts: Facts): string[] {
  const msgs: string[] = [];
  for (const role of roles) {
    if (!role.sizing) continue;
    const disk = role.sizing.diskPath ? facts.disks.find((d) => d.path === role.sizing!.diskPath) : undefined;
    const have = { cpus: facts.cpus, memoryGiB: facts.memoryGiB, diskGiB: disk?.sizeGiB, arch: facts.arch };
    for (const s of shortfalls({ ...role.sizing, bandwidthMbps: undefined }, have)) {
      msgs.push(`undersized for role ${role.name}: needs ${s.need}, has ${s.have} (${role.sizing.source})`);
    }
  }
  return msgs;
}

// ---------- placement ----------

interface Conflict {
  hosts: string[];
  message: string;
}

/** Roles that must not share a machine. `machines` groups host names that are one machine. */
function antiAffinity(machines: string[][], rolesOfHost: (h: string) => string[], defs: Map<string, RoleDefinition>, why: string): Conflict[] {
  const out: Conflict[] = [];
  for (const names of machines) {
    const onMachine = names.flatMap((h) => rolesOfHost(h).map((role) => ({ host: h, role })));
    const forbids = (x: string, y: string) => defs.get(x)?.placement?.notWith?.includes(y) ?? false;
    onMachine.forEach((a, i) => {
      for (const b of onMachine.slice(i + 1)) {
        if (a.role === b.role || !(forbids(a.role, b.role) || forbids(b.role, a.role))) continue;
        const where = a.host === b.host ? `host ${a.host}` : `hosts ${a.host} and ${b.host} (${why})`;
        const message = `role ${a.role} and role ${b.role} must not share a machine, found both on ${where}`;
        if (!out.some((c) => c.message === message)) out.push({ hosts: [...new Set([a.host, b.host])], message });
      }
    });
  }
  return out;
}

export function checkPlacementOffline(inv: Inventory, views: Map<string, HostView>, defs: Map<string, RoleDefinition>, problems: ProblemList, known: Set<string>): void {
  const file = path.join(inv.dir, 'hosts.yaml');
  // A rule naming no role guards nothing: a typo, or a role not written yet (that role states the rule).
  for (const def of defs.values()) {
    for (const other of def.placement?.notWith ?? []) {
      if (!known.has(other)) problems.add({ file: `roles/${def.name}`, at: 'placement.notWith', expected: `names of roles (${[...known].join(', ')})`, found: `"${other}", which is no role` });
    }
  }
  // Offline, one machine = one address:port (two names for the same sshd).
  const byAddress = new Map<string, string[]>();
  for (const h of inv.hosts.values()) {
    const k = `${h.address}:${h.port}`;
    byAddress.set(k, [...(byAddress.get(k) ?? []), h.name]);
  }
  for (const c of antiAffinity([...byAddress.values()], (h) => views.get(h)!.roles, defs, 'same address')) {
    problems.add({ file, at: `hosts.${c.hosts[0]}`, expected: 'placement rules of the roles kept (see README "Placement")', found: c.message });
  }
  for (const v of views.values()) {
    const priv = v.roles.filter((r) => defs.get(r)?.placement?.private);
    if (priv.length && !inv.hosts.get(v.name)!.jump) {
      problems.add({ file, at: `hosts.${v.name}.jump`, expected: `a jump host (bastion): role ${priv.join(', ')} must not be reachable from the public internet, SSH only through the bastion`, found: 'no jump host' });
    }
  }
}

/** Online: two inventory names on one machine-id are one machine. Returns host → messages. */
export function checkPlacementOnline(machineIds: Map<string, string>, views: Map<string, HostView>, defs: Map<string, RoleDefinition>): Map<string, string[]> {
  const byMachine = new Map<string, string[]>();
  for (const [h, id] of machineIds) if (id) byMachine.set(id, [...(byMachine.get(id) ?? []), h]);
  const out = new Map<string, string[]>();
  const machines = [...byMachine.values()].filter((hs) => hs.length > 1);
  for (const c of antiAffinity(machines, (h) => views.get(h)?.roles ?? [], defs, 'same machine-id')) {
    for (const h of c.hosts) out.set(h, [...(out.get(h) ?? []), c.message]);
  }
  return out;
}

export type { Host };
