// A role's vars for one host: schema defaults < play vars < inventory vars (already merged by the
// loader), validated against the role's schema. Errors point at the file that set the bad value.
import type { TObject } from '@sinclair/typebox';
import type { Host } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import { deepMerge, isPlainObject } from '../inventory/merge.js';
import { checkSchema } from '../input/schema-check.js';
import type { InputProblem, ProblemList } from '../input/errors.js';
import { MIN_SECRET_LENGTH, SecretValue, secretPaths } from '../secrets/value.js';

export function resolveRoleVars(
  host: Host,
  role: string,
  schema: TObject,
  playVars: Record<string, unknown>,
  pb: Playbook,
  playIndex: number,
  problems: ProblemList,
  allowPlaintextSecrets = false,
): Record<string, unknown> {
  const fromInventory = host.vars[role];
  if (fromInventory !== undefined && !isPlainObject(fromInventory)) {
    const src = [...host.varSources].reverse().find((s) => role in s.data)!;
    problems.add({ file: src.file, at: role, expected: `a map of vars for role ${role}`, found: JSON.stringify(fromInventory), line: src.lineOf([role]) });
    return {};
  }
  const merged = deepMerge(structuredClone(playVars), (fromInventory as Record<string, unknown>) ?? {});
  const secrets = secretPaths(schema);
  const before = problems.items.length;
  checkSecretSources(host, role, secrets, pb.plays[playIndex]!.roles.find((r) => r.name === role)?.vars ?? {}, pb, playIndex, allowPlaintextSecrets, problems);
  const underSecret = (keys: string[]): boolean => secrets.some((s) => s.every((k, i) => keys[i] === k));
  for (const p of checkSchema(schema, merged, '', [])) {
    // Find the highest-precedence source that sets this path (or its nearest parent).
    const keys = p.at.split('.').filter(Boolean);
    const origin = whereSet(host, role, keys, pb, playIndex);
    // A secret's value is never echoed back, even in an error.
    const found = underSecret(keys) && !/^(nothing|unknown key)/.test(p.found) ? 'a secret value (not shown)' : p.found;
    problems.add({ ...p, found, file: origin.file, at: `${origin.prefix}${p.at}`, line: origin.line, expected: `${p.expected} (role ${role}, host ${host.name})` });
  }
  for (const keys of secrets) {
    const v = get(merged, keys);
    if (typeof v === 'string' && v.length < MIN_SECRET_LENGTH) {
      const origin = whereSet(host, role, keys, pb, playIndex);
      problems.add({ file: origin.file, at: `${origin.prefix}${keys.join('.')}`, line: origin.line, expected: `a secret of at least ${MIN_SECRET_LENGTH} characters (shorter ones cannot be kept out of output reliably)`, found: `${v.length} characters` });
    }
  }
  if (problems.items.length > before) return merged;
  // Valid: the role gets each secret wrapped, so it cannot print or interpolate it by accident.
  for (const keys of secrets) {
    const v = get(merged, keys);
    if (typeof v === 'string') set(merged, keys, new SecretValue(v));
  }
  return merged;
}

/**
 * A secret var may only come from an encrypted file; a plain one is an error at its file and line
 * (unless a lab inventory opted in). An encrypted file holds only secret vars: a plain var there
 * would be hidden from review for no reason.
 */
function checkSecretSources(
  host: Host,
  role: string,
  secrets: string[][],
  playVars: Record<string, unknown>,
  pb: Playbook,
  playIndex: number,
  allowPlaintext: boolean,
  problems: ProblemList,
): void {
  const isSecretPath = (keys: string[]): boolean => secrets.some((s) => s.length === keys.length && s.every((k, i) => keys[i] === k));
  const within = (keys: string[]): boolean => secrets.some((s) => s.length > keys.length && keys.every((k, i) => s[i] === k));
  const seen = new Set<string>();
  const add = (p: InputProblem): void => {
    const key = `${p.file}|${p.at}`;
    if (!seen.has(key)) problems.add(p);
    seen.add(key);
  };
  for (const src of host.varSources) {
    const data = src.data[role];
    if (!isPlainObject(data)) continue;
    for (const keys of leafPaths(data, within)) {
      if (src.secret && !isSecretPath(keys)) {
        add({ file: src.file, at: `${role}.${keys.join('.')}`, line: src.lineOf([role, ...keys]), expected: `only vars role ${role} marks as Secret() in an encrypted file`, found: 'a plain var (set it in group_vars/ or host_vars/)' });
      } else if (!src.secret && isSecretPath(keys) && !allowPlaintext) {
        add({ file: src.file, at: `${role}.${keys.join('.')}`, line: src.lineOf([role, ...keys]), expected: `secret var ${keys.join('.')} of role ${role} in an encrypted file (provision secrets edit INVENTORY SCOPE ${role}.${keys.join('.')})`, found: 'it in plain YAML' });
      }
    }
  }
  for (const keys of secrets) {
    if (get(playVars, keys) !== undefined && !allowPlaintext) {
      const ri = pb.plays[playIndex]!.roles.findIndex((r) => r.name === role);
      add({ file: pb.file, at: `${playIndex}.roles.${ri}.vars.${keys.join('.')}`, line: pb.lineOf([playIndex, 'roles', ri, 'vars', ...keys]), expected: `secret var ${keys.join('.')} of role ${role} in an encrypted inventory file`, found: 'it in the playbook' });
    }
  }
}

/** Paths of the leaves of a vars map; `descend` says which maps to look into (those holding secrets). */
function leafPaths(v: Record<string, unknown>, descend: (keys: string[]) => boolean, prefix: string[] = []): string[][] {
  return Object.entries(v).flatMap(([k, x]) => {
    const keys = [...prefix, k];
    return isPlainObject(x) && descend(keys) ? leafPaths(x, descend, keys) : [keys];
  });
}

function get(v: unknown, keys: string[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function set(v: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = v;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[keys[keys.length - 1]!] = value;
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
