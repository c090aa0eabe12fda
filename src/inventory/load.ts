// Load inventory/<env>/: hosts.yaml + group_vars/*.yaml + host_vars/*.yaml → a resolved Inventory.
// Everything is validated here, offline; nothing in this file opens a connection.
//
// Variable precedence (lowest first; maps merge deeply, lists and scalars replace):
//   role defaults (schema) < play vars (playbook) < group_vars/all < group_vars/<group>
//   (parents before children, then by name) < host_vars/<host>
// The first two are applied by the planner (src/plan/host-vars.ts); this file merges the inventory part.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError, ProblemList, describeValue, displayPath } from '../input/errors.js';
import { readYamlFile } from '../input/yaml-file.js';
import { checkSchema } from '../input/schema-check.js';
import { HostsFileSchema, type HostsFile, type GroupEntry } from './schema.js';
import type { Group, Host, Inventory, VarSource } from './types.js';
import { deepMerge, isPlainObject } from './merge.js';
import { decryptScope, identityFile, secretScopes, scopeFile } from '../secrets/store.js';
import { LAB_SECRETS_SPEC, missingLabSecrets } from '../lab/secrets.js';

export interface LoadOptions {
  /** the age identity file for the inventory's secrets (--identity); else $PROVISION_AGE_IDENTITY */
  identity?: string;
  /** false: leave secrets/ alone (the lab commands, which may have to make them first) */
  secrets?: boolean;
}

export function loadInventory(dirArg: string, opts: LoadOptions = {}): Inventory {
  const dir = path.resolve(dirArg);
  const hostsFile = path.join(dir, 'hosts.yaml');
  const problems = new ProblemList();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.add({ file: dir, at: '', expected: 'an inventory directory containing hosts.yaml', found: 'no such directory' });
    problems.throwIfAny();
  }
  const yaml = readYamlFile(hostsFile, 'inventory hosts file');
  const raw = yaml.data;
  for (const p of checkSchema(HostsFileSchema, raw, hostsFile, [], (at) => yaml.lineOf(at))) problems.add(p);
  problems.throwIfAny();
  const doc = raw as HostsFile;

  const groupEntries = doc.groups ?? {};
  const groups = new Map<string, Group>();
  groups.set('all', { name: 'all', hosts: Object.keys(doc.hosts), children: [] });
  for (const [name, g] of Object.entries(groupEntries)) {
    if (name === 'all') {
      problems.add({ file: hostsFile, at: 'groups.all', expected: 'no group named "all" (it is implicit: every host)', found: 'a definition', line: yaml.lineOf(['groups', 'all']) });
      continue;
    }
    if (doc.hosts[name]) {
      problems.add({ file: hostsFile, at: `groups.${name}`, expected: 'group names distinct from host names', found: `"${name}" is also a host`, line: yaml.lineOf(['groups', name]) });
    }
    groups.set(name, { name, hosts: g.hosts ?? [], children: g.children ?? [] });
    (g.hosts ?? []).forEach((h, i) => {
      if (!doc.hosts[h]) problems.add({ file: hostsFile, at: `groups.${name}.hosts.${i}`, expected: 'the name of a host defined under hosts', found: `unknown host "${h}"`, line: yaml.lineOf(['groups', name, 'hosts', i]) });
    });
    (g.children ?? []).forEach((c, i) => {
      if (!groupEntries[c]) problems.add({ file: hostsFile, at: `groups.${name}.children.${i}`, expected: 'the name of a group defined under groups', found: `unknown group "${c}"`, line: yaml.lineOf(['groups', name, 'children', i]) });
    });
  }
  problems.throwIfAny();

  // Group depth (for precedence and connection settings) and cycle detection.
  const depth = new Map<string, number>([['all', 0]]);
  const parents = new Map<string, string[]>();
  for (const g of groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const depthOf = (name: string, trail: string[]): number => {
    if (trail.includes(name)) {
      problems.add({ file: hostsFile, at: `groups.${name}.children`, expected: 'groups without cycles', found: `the cycle ${[...trail, name].join(' → ')}`, line: yaml.lineOf(['groups', name, 'children']) });
      return 1;
    }
    const known = depth.get(name);
    if (known !== undefined) return known;
    const ps = parents.get(name) ?? [];
    const d = 1 + Math.max(0, ...ps.map((p) => depthOf(p, [...trail, name])));
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) depthOf(name, []);
  problems.throwIfAny();

  // Membership: a host is in a group if listed there or in any of its children, transitively.
  const membersOf = (name: string, seen = new Set<string>()): Set<string> => {
    const g = groups.get(name)!;
    const out = new Set(g.hosts);
    for (const c of g.children) if (!seen.has(c)) { seen.add(c); for (const h of membersOf(c, seen)) out.add(h); }
    return out;
  };
  const groupsOfHost = new Map<string, string[]>();
  for (const g of groups.keys()) for (const h of membersOf(g)) groupsOfHost.set(h, [...(groupsOfHost.get(h) ?? []), g]);
  const byPrecedence = (a: string, b: string) => (depth.get(a)! - depth.get(b)!) || a.localeCompare(b);

  const groupVars = loadVarsDir(path.join(dir, 'group_vars'), new Set(groups.keys()), 'group', problems);
  const hostVars = loadVarsDir(path.join(dir, 'host_vars'), new Set(Object.keys(doc.hosts)), 'host', problems);
  const secretVars = opts.secrets === false ? new Map<string, VarSource>() : loadSecrets(dir, new Set([...groups.keys(), ...Object.keys(doc.hosts)]), opts.identity, !!doc.lab, problems);
  problems.throwIfAny();

  const defaults = doc.defaults ?? {};
  const hosts = new Map<string, Host>();
  for (const [name, entry] of Object.entries(doc.hosts)) {
    const memberOf = (groupsOfHost.get(name) ?? ['all']).sort(byPrecedence);
    // connection settings: defaults < groups (by precedence) < host entry
    const layers: Partial<GroupEntry & { address: string }>[] = [defaults, ...memberOf.filter((g) => g !== 'all').map((g) => groupEntries[g]!), entry];
    const pick = <K extends keyof GroupEntry>(k: K): GroupEntry[K] | undefined => {
      let v: GroupEntry[K] | undefined;
      for (const l of layers) if (l[k] !== undefined) v = l[k] as GroupEntry[K];
      return v;
    };
    const spec = Object.assign({}, ...layers.map((l) => l.spec ?? {}));
    // A scope's encrypted secrets come right after its plain vars file: same precedence level.
    const varSources = [...memberOf, name]
      .flatMap((scope) => [scope === name ? hostVars.get(name) : groupVars.get(scope), secretVars.get(scope)])
      .filter((v): v is VarSource => !!v);
    let vars: Record<string, unknown> = {};
    for (const src of varSources) vars = deepMerge(vars, src.data);
    const key = pick('key');
    const jump = pick('jump');
    hosts.set(name, {
      name,
      address: entry.address,
      port: pick('port') ?? 22,
      user: pick('user') ?? 'root',
      key: key ? resolvePath(dir, key) : undefined,
      jump: jump ?? undefined,
      sizing: pick('sizing') ?? 'enforce',
      spec,
      groups: memberOf.slice().sort(),
      vars,
      varSources,
    });
  }

  // Jump hosts must exist and must not form a loop.
  for (const h of hosts.values()) {
    if (!h.jump) continue;
    const line = yaml.lineOf(['hosts', h.name, 'jump']) ?? yaml.lineOf(['hosts', h.name]);
    if (!hosts.has(h.jump)) {
      problems.add({ file: hostsFile, at: `hosts.${h.name}.jump`, expected: 'the name of an inventory host to jump through', found: `unknown host "${h.jump}"`, line });
      continue;
    }
    const chain = [h.name];
    let cur: Host | undefined = hosts.get(h.jump);
    while (cur) {
      if (chain.includes(cur.name)) {
        problems.add({ file: hostsFile, at: `hosts.${h.name}.jump`, expected: 'a jump chain that ends', found: `the loop ${[...chain, cur.name].join(' → ')}`, line });
        break;
      }
      chain.push(cur.name);
      cur = cur.jump ? hosts.get(cur.jump) : undefined;
    }
  }
  problems.throwIfAny();

  return {
    dir,
    name: path.basename(dir),
    hosts,
    groups,
    knownHosts: resolvePath(dir, defaults.known_hosts ?? 'known_hosts'),
    lab: doc.lab,
  };
}

function resolvePath(dir: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(dir, p);
}

/** group_vars/<name>.yaml or host_vars/<name>.yaml: a map keyed by role name. */
function loadVarsDir(varsDir: string, known: Set<string>, kind: 'group' | 'host', problems: ProblemList): Map<string, VarSource> {
  const out = new Map<string, VarSource>();
  if (!fs.existsSync(varsDir)) return out;
  for (const entry of fs.readdirSync(varsDir).sort()) {
    const file = path.join(varsDir, entry);
    const m = /^(.+)\.ya?ml$/.exec(entry);
    if (!m) {
      problems.add({ file, at: '', expected: `a ${kind} vars file named <${kind}>.yaml`, found: `"${entry}"` });
      continue;
    }
    const name = m[1]!;
    if (!known.has(name)) {
      problems.add({ file, at: '', expected: `the name of a ${kind} in hosts.yaml (${[...known].sort().join(', ')})`, found: `unknown ${kind} "${name}"` });
      continue;
    }
    const yaml = readYamlFile(file, `${kind} vars`);
    if (!isPlainObject(yaml.data)) {
      problems.add({ file, at: '', expected: 'a map of role name → vars', found: describeValue(yaml.data), line: 1 });
      continue;
    }
    out.set(name, { file, data: yaml.data, lineOf: yaml.lineOf });
  }
  return out;
}

/** secrets/<group or host>.age, decrypted in memory: one more vars source per scope. */
function loadSecrets(dir: string, known: Set<string>, given: string | undefined, isLab: boolean, problems: ProblemList): Map<string, VarSource> {
  const out = new Map<string, VarSource>();
  // A lab inventory's secrets are made by `lab up` on each machine: say so, rather than let every
  // role var they carry be reported missing.
  if (isLab) {
    for (const scope of missingLabSecrets(dir)) {
      problems.add({ file: scopeFile(dir, scope), at: '', expected: `the lab secrets listed in secrets/${LAB_SECRETS_SPEC}, which \`provision lab up ${displayPath(dir)}\` generates on this machine`, found: 'no such file yet' });
    }
  }
  const scopes = secretScopes(dir);
  if (scopes.length === 0) return out;
  const identity = identityFile(given, isLab);
  for (const scope of scopes) {
    const file = scopeFile(dir, scope);
    if (!known.has(scope)) {
      problems.add({ file, at: '', expected: `a secrets file named after a group or host of hosts.yaml (${[...known].sort().join(', ')})`, found: `unknown scope "${scope}"` });
      continue;
    }
    try {
      const d = decryptScope(file, identity, isLab);
      out.set(scope, { file: d.file, data: d.data, lineOf: d.lineOf, secret: true });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      e.problems.forEach((p) => problems.add(p));
    }
  }
  return out;
}
