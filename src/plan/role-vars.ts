// A role's vars for one host: schema defaults < play vars < inventory vars (already merged by the
// loader), validated against the role's schema. Errors point at the file that set the bad value.
import type { TObject } from '@sinclair/typebox';
import type { Host } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import { deepMerge, isPlainObject } from '../inventory/merge.js';
import { checkSchema } from '../input/schema-check.js';
import type { ProblemList } from '../input/errors.js';

export function resolveRoleVars(
  host: Host,
  role: string,
  schema: TObject,
  playVars: Record<string, unknown>,
  pb: Playbook,
  playIndex: number,
  problems: ProblemList,
): Record<string, unknown> {
  const fromInventory = host.vars[role];
  if (fromInventory !== undefined && !isPlainObject(fromInventory)) {
    const src = [...host.varSources].reverse().find((s) => role in s.data)!;
    problems.add({ file: src.file, at: role, expected: `a map of vars for role ${role}`, found: JSON.stringify(fromInventory), line: src.lineOf([role]) });
    return {};
  }
  const merged = deepMerge(structuredClone(playVars), (fromInventory as Record<string, unknown>) ?? {});
  for (const p of checkSchema(schema, merged, '', [])) {
    // Find the highest-precedence source that sets this path (or its nearest parent).
    const keys = p.at.split('.').filter(Boolean);
    const origin = whereSet(host, role, keys, pb, playIndex);
    problems.add({ ...p, file: origin.file, at: `${origin.prefix}${p.at}`, line: origin.line, expected: `${p.expected} (role ${role}, host ${host.name})` });
  }
  return merged;
}

function whereSet(host: Host, role: string, keys: string[], pb: Playbook, playIndex: number): { file: string; prefix: string; line?: number } {
  for (let n = keys.length; n >= 0; n--) {
    const sub = keys.slice(0, n);
    for (const src of [...host.varSources].reverse()) {
      if (has(src.data[role], sub)) return { file: src.file, prefix: `${role}.`, line: src.lineOf([role, ...sub]) };
    }
    const play = pb.plays[playIndex]!;
    const ri = play.roles.findIndex((r) => r.name === role);
    if (has(play.roles[ri]!.vars, sub) && (n > 0 || Object.keys(play.roles[ri]!.vars).length)) {
      return { file: pb.file, prefix: `${playIndex}.roles.${ri}.vars.`, line: pb.lineOf([playIndex, 'roles', ri, 'vars', ...sub]) };
    }
  }
  // Nothing sets it (a required value is missing): point at the host's most specific vars file, or hosts.yaml.
  const last = host.varSources[host.varSources.length - 1];
  return last ? { file: last.file, prefix: `${role}.`, line: last.lineOf([role]) } : { file: `${host.name} (no vars file sets role ${role})`, prefix: `${role}.` };
}

function has(v: unknown, keys: string[]): boolean {
  let cur = v;
  for (const k of keys) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return false;
    if (!(k in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur !== undefined;
}
