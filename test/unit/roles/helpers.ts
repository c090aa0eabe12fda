// Role unit tests build roles through the engine's own code (buildRoles of src/plan/compile.ts:
// openings of all roles first, then handlers, resources and health checks; templates rendered by
// the engine's renderer): the lab fleet as HostViews, vars validated and defaulted by ajv as the
// engine does.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { TObject } from '@sinclair/typebox';
import type { HostState, HostView, Opening, RoleContext, RoleDefinition } from '../../../src/roles/types.js';
import type { Facts } from '../../../src/facts/types.js';
import { SecretValue, secretPaths } from '../../../src/secrets/value.js';
import { DEFAULT_RELEASE, type Release } from '../../../src/facts/release.js';
import type { Handler, Resource } from '../../../src/resources/index.js';
import { buildRoles, type HostRole } from '../../../src/plan/compile.js';
import { renderTemplate } from '../../../src/roles/template.js';
import base from '../../../roles/base/role.js';
import bastion from '../../../roles/bastion/role.js';
import drandNode from '../../../roles/drand-node/role.js';
import snapshot from '../../../roles/snapshot/role.js';
import snapshotServer from '../../../roles/snapshot-server/role.js';
import { loadInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { labSecretValues, LAB_SECRETS_SPEC } from '../../../src/lab/secrets.js';

/** The repository root (this file runs from dist/test/unit/roles/). */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'roles'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
})();

export const roles: Record<string, RoleDefinition> = {
  base: base as unknown as RoleDefinition,
  bastion: bastion as unknown as RoleDefinition,
  'drand-node': drandNode as unknown as RoleDefinition,
  snapshot: snapshot as unknown as RoleDefinition,
  'snapshot-server': snapshotServer as unknown as RoleDefinition,
};

/** The lab fleet of inventory/lab/hosts.yaml, with the roles the site playbook gives them. */
export function labHosts(): HostView[] {
  const h = (name: string, address: string, groups: string[], roleNames: string[], jump?: string): HostView => ({
    name,
    address,
    groups: ['all', ...groups].sort(),
    roles: roleNames,
    provider: 'lab',
    ...(jump ? { jump } : {}),
  });
  return [
    h('bastion-1', '10.213.7.10', ['bastions'], ['base', 'bastion']),
    h('monitor-1', '10.213.7.30', ['monitoring'], ['base'], 'bastion-1'),
    h('drand-1', '10.213.7.21', ['drand_nodes', 'nodes'], ['base', 'drand-node'], 'bastion-1'),
    h('drand-2', '10.213.7.22', ['drand_nodes', 'nodes'], ['base', 'drand-node'], 'bastion-1'),
    h('drand-3', '10.213.7.23', ['drand_nodes', 'nodes'], ['base', 'drand-node'], 'bastion-1'),
  ];
}

export const inventoryOf = (hosts: HostView[]): RoleContext<unknown>['inventory'] => ({
  hosts,
  group: (g: string) => hosts.filter((x) => x.groups.includes(g)),
});

/**
 * A lab inventory (inventory/lab by default) as `lab up` leaves it: the secrets its
 * secrets/lab-secrets.yaml lists, here with fixed test values instead of the lab's encrypted random
 * ones (a fresh machine has no lab identity yet), as a secret vars source of each scope's hosts.
 */
export function loadLabInventory(dir = 'inventory/lab'): Inventory {
  const inv = loadInventory(path.join(repoRoot, dir), { secrets: false });
  const spec = path.join(inv.dir, 'secrets', LAB_SECRETS_SPEC);
  if (!fs.existsSync(spec)) return inv;
  for (const [scope, data] of Object.entries(labSecretValues(spec, () => 'unit-test-lab-secret-0123456789'))) {
    for (const host of inv.hosts.values()) {
      if (scope !== 'all' && scope !== host.name && !host.groups.includes(scope)) continue;
      host.varSources.push({ file: path.join(inv.dir, 'secrets', `${scope}.age`), data, lineOf: () => undefined, secret: true });
      for (const [role, vars] of Object.entries(data)) host.vars[role] = { ...(host.vars[role] as Record<string, unknown> | undefined), ...vars };
    }
  }
  return inv;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });

/** Validate (and default) a role's vars like the engine; throws with ajv's messages. */
export function withDefaults(role: RoleDefinition, vars: unknown): Record<string, unknown> {
  const data = structuredClone(vars ?? {}) as Record<string, unknown>;
  const validate = ajv.compile(role.vars as TObject);
  if (!validate(data)) throw new Error(`vars of ${role.name}: ${ajv.errorsText(validate.errors)}`);
  // as the engine does: a secret var reaches the role wrapped (top-level secrets are enough here)
  for (const [k] of secretPaths(role.vars as TObject)) if (typeof data[k!] === 'string') data[k!] = new SecretValue(data[k!] as string);
  return data;
}

export const STANDIN = 'test/fixtures/drand-standin/drand';

/** The pin the lab inventory gives (read from the file, so the tests use whatever the lab uses). */
export function labDrandVars(): Record<string, unknown> {
  return {
    binary: { file: STANDIN, sha256: sha256File(path.join(repoRoot, STANDIN)) },
    network_group: 'drand_nodes',
    extra_packages: ['python3'],
  };
}

export function sha256File(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

export interface HostSetup {
  host: string;
  /** vars per role name (before defaults) */
  vars?: Record<string, unknown>;
  hosts?: HostView[];
  loginUser?: string;
  controllerAddresses?: string[];
  /** ctx.release (default: the lab's default release) */
  release?: Release;
}

export interface Built {
  host: HostView;
  openings: Opening[];
  /** the state every role of the host declares */
  state: HostState[];
  /** resources per role */
  resources: Record<string, Resource[]>;
  handlers: Record<string, Handler>;
  health: Record<string, { name: string; script: string }[]>;
  /** every template rendered, by "<role>/<name>" */
  rendered: Map<string, string>;
  all: Resource[];
}

const defaultVars = (): Record<string, unknown> => ({
  base: { monitoring: ['monitor-1'], log_host: 'monitor-1:514' },
  bastion: { operators: [{ name: 'alice', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5ZN3wRyy5yN6fWYSkE2p8fXU+AhBJuyjUdblb+XqTJ alice@lab'] }], allow_from: ['192.0.2.0/24'] },
  'drand-node': labDrandVars(),
});

/** Build every role of one host through the engine's own code (buildRoles of src/plan/compile.ts). */
export function build(setup: HostSetup): Built {
  const hosts = setup.hosts ?? labHosts();
  const host = hosts.find((h) => h.name === setup.host);
  if (!host) throw new Error(`no host ${setup.host}`);
  const vars = { ...defaultVars(), ...(setup.vars ?? {}) };
  const common = {
    host,
    inventory: inventoryOf(hosts),
    loginUser: setup.loginUser ?? 'root',
    controllerAddresses: setup.controllerAddresses ?? ['10.213.7.1'],
    release: setup.release ?? DEFAULT_RELEASE,
    repoPath: (rel: string) => path.join(repoRoot, rel),
    // as the engine derives it: the accounts the site roles declare
    systemAccounts: [...new Set(Object.values(roles).flatMap((r) => r.accounts ?? []))].sort(),
  };
  const hostRoles: HostRole[] = host.roles.map((name) => ({ role: roles[name]!, vars: withDefaults(roles[name]!, vars[name]) as Record<string, unknown>, play: 0 }));
  const rendered = new Map<string, string>();
  // the site roles read no other host's values; a role fact is not probed here (offline, as at `check`)
  const reading = () => ({
    hostValue: () => {
      throw new Error('the role helper gives no host values');
    },
    varsOf: () => ({}),
    fact: () => undefined,
  });
  const out = buildRoles({ name: host.name }, hostRoles, hostRoles, common, reading, 0, false, (role, t, data) => {
    const text = renderTemplate(role, t, data);
    rendered.set(`${role.name}/${t}`, text);
    return text;
  });
  const built: Built = { host, openings: out.openings, state: out.state, resources: {}, handlers: Object.fromEntries(out.handlers), health: {}, rendered, all: out.resources };
  for (const name of host.roles) {
    built.resources[name] = out.resources.filter((r) => out.roleOf.get(r.id) === name);
    built.health[name] = out.health.filter((_, i) => out.healthOf[i] === name);
  }
  return built;
}

export function find(b: Built, id: string): Resource {
  const r = b.all.find((x) => x.id === id);
  if (!r) throw new Error(`no resource ${id} among:\n${b.all.map((x) => x.id).join('\n')}`);
  return r;
}

export function tpl(b: Built, key: string): string {
  const t = b.rendered.get(key);
  if (t === undefined) throw new Error(`template ${key} was not rendered (have: ${[...b.rendered.keys()].join(', ')})`);
  return t;
}

/** nftables rule lines for a port (the rendered ruleset of the base role). */
export function rulesFor(b: Built, port: number): string[] {
  return tpl(b, 'base/nftables.conf')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => new RegExp(`\\bdport ${port}\\b|^# tcp/${port} `).test(l));
}

export const vmFacts: Facts = {
  os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  release: 'debian-12',
  arch: 'x86_64',
  cpus: 2,
  memoryGiB: 8,
  disks: [],
  container: 'none',
  machineId: '0123456789abcdef0123456789abcdef',
  hostname: 'drand-1',
};
export const containerFacts: Facts = { ...vmFacts, container: 'systemd-nspawn' };

/** A free TCP port on loopback, for the stand-in daemons the tests start. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
