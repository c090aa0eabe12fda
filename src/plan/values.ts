// Values shared between hosts, and facts that roles declare.
//
// A role PUBLISHES values from its host (a public key generated there, a service's current role):
// each is a read-only sh snippet that runs in the host's single probe. Any role of any host READS
// them with ctx.hostValue(host, role, name). A value no probe has read yet (a fresh host) is a
// placeholder string: the resources whose desired state holds it are found by compiling the host a
// second time with different placeholders (whatever the resource does with the string, its desired
// hash moves), plan as "(known after apply)" and are applied in a later round of the same apply,
// once the generating host's verification probe has read the value (src/apply/run.ts).
//
// A role also declares FACTS it needs about its own host (a probe and a parser): they run in the
// same probe and the role reads them with ctx.fact(name); offline (`check`) they are undefined.
import type { HostRole } from './compile.js';

export interface ValueRef {
  host: string;
  role: string;
  name: string;
}

/** published values read so far: key `host role.name` → value */
export type ValueTable = Map<string, string>;

export const valueKey = (r: ValueRef): string => `${r.host} ${r.role}.${r.name}`;

/**
 * The stand-in for a value not read yet. Two variants: a resource whose desired state differs
 * between them uses the value. Shown as is in the plan's diff.
 */
export const placeholder = (r: ValueRef, variant: 0 | 1): string => `(known after apply: ${valueKey(r)})${variant ? '\u200b' : ''}`;

/**
 * Resource types whose probe reads the same state whatever their desired content: a file's probe
 * always reads the sha256; the desired hash only decides whether it also sends the content for the
 * diff. Only these may hold a value or a fact the probe learns (they were probed before it was known).
 */
export const VALUE_SAFE_PROBES = new Set(['file']);

/** One extra section of a host's probe: a published value or a role's fact. */
export interface ExtraProbe {
  kind: 'value' | 'fact';
  role: string;
  name: string;
  probe: string;
  /** a fact's parser (plain data otherwise) */
  parse?: (stdout: string, status: number) => unknown;
}

/** A published value is the probe's trimmed stdout when it exits 0 and prints something. */
export function publishedValue(out: { stdout: string; status: number } | undefined): string | undefined {
  if (!out || out.status !== 0) return undefined;
  const v = out.stdout.trim();
  return v === '' ? undefined : v;
}

/** Why a read names nothing that exists: the host, the role on it, the value the role publishes. */
export function missingRef(ref: ValueRef, rolesOf: Map<string, HostRole[]>, hostExists: (h: string) => boolean): string | undefined {
  if (!hostExists(ref.host)) return `no host "${ref.host}" in the inventory`;
  const hr = (rolesOf.get(ref.host) ?? []).find((r) => r.role.name === ref.role);
  if (!hr) return `host ${ref.host} has no role "${ref.role}" (it has: ${(rolesOf.get(ref.host) ?? []).map((r) => r.role.name).join(', ') || 'none'})`;
  if (!hr.role.publishes?.[ref.name]) return `role ${ref.role} publishes no value "${ref.name}" (it publishes: ${Object.keys(hr.role.publishes ?? {}).join(', ') || 'none'})`;
  return undefined;
}

/**
 * Cycles between published values: value V of host H depends on the values that the resources
 * making it (`madeBy`) read, when those resources use them. Returns each cycle as its chain.
 */
export function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (v: string) => {
    state.set(v, 'open');
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (state.get(w) === 'open') cycles.push([...stack.slice(stack.indexOf(w)), w]);
      else if (!state.has(w)) visit(w);
    }
    stack.pop();
    state.set(v, 'done');
  };
  for (const v of [...edges.keys()].sort()) if (!state.has(v)) visit(v);
  return cycles;
}
