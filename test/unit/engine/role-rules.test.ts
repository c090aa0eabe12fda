// Rules `check` enforces on the roles themselves (fixture roles in test/fixtures/role-rules), and the
// bastion's reserved account names derived from the accounts the site roles declare.
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile } from '../../../src/plan/compile.js';
import { InputError } from '../../../src/input/errors.js';
import { build, loadLabInventory, roles } from '../roles/helpers.js';
import relay from '../../../roles/drand-http-relay/role.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5ZN3wRyy5yN6fWYSkE2p8fXU+AhBJuyjUdblb+XqTJ alice@lab';

const repo = process.cwd();
const check = async (dir: string, playbook: string, limit?: string, inventory = () => loadInventory(path.join(repo, dir))) => {
  try {
    await compile(inventory(), loadPlaybook(path.join(repo, dir, playbook)), { controllerAddresses: ['10.213.7.1'], ...(limit ? { limit } : {}) });
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.file.replace(`${repo}/`, '')} at ${p.at}: ${p.found}`);
    throw e;
  }
  return [];
};
const rules = (playbook: string) => check('test/fixtures/role-rules', playbook);

describe('check refuses roles that break the engine\'s rules', () => {
  test('a notWith naming no role', async () => {
    expect(await rules('playbook-notwith.yaml')).toEqual(['roles/r-notwith at placement.notWith: "r-nothing", which is no role']);
  });
  test('one handler name defined differently by two roles (on different hosts too)', async () => {
    expect(await rules('playbook-handlers.yaml')).toEqual(['test/fixtures/role-rules/playbook-handlers.yaml at handler "restart x": roles r-h1 and r-h2 define it differently']);
  });
  test('openings on a host without base', async () => {
    expect(await rules('playbook-open.yaml')).toEqual(['roles/r-open at host a: role r-open opens 80/tcp on host a, which has no base role: nothing would render its firewall']);
  });
  test("an 'any' opening in a private role", async () => {
    expect(await rules('playbook-private.yaml')).toEqual(['roles/r-private at host a: role r-private is private (never reachable from the public internet) but opens 4444/tcp to any address on host a']);
  });
  test('the site and the example production inventory pass', async () => {
    const prod = () => loadInventory(path.join(repo, 'inventory/prod'), { identity: path.join(repo, 'test/fixtures/prod/example-age-identity.txt') });
    expect(await check('inventory/prod', '../../playbooks/site.yaml', undefined, prod)).toEqual([]);
    expect(await check('inventory/lab', '../../playbooks/site.yaml', undefined, () => loadLabInventory())).toEqual([]);
  });
});

describe('system accounts are declared by roles; the bastion refuses them as operator names', () => {
  test('the accounts come from the roles: drand-node, drand-http-relay, base, bastion, snapshot-server', () => {
    expect(Object.fromEntries([...Object.values(roles), relay].map((r) => [r.name, r.accounts ?? []]))).toEqual({
      'drand-node': ['drand'], 'drand-http-relay': ['drand-relay'], base: ['prometheus', 'ssh-users'], bastion: ['operators'], snapshot: [], 'snapshot-server': ['restic'],
    });
  });
  // (the role helper builds base, bastion and drand-node: their accounts, as the engine derives them from the playbook's roles)
  test('an operator named like one of them is refused, a free name is not', () => {
    const ops = (name: string) => ({ bastion: { allow_from: ['192.0.2.0/24'], operators: [{ name, keys: [KEY] }] } });
    for (const name of ['drand', 'prometheus', 'ssh-users', 'operators', '_apt']) {
      expect(() => build({ host: 'bastion-1', vars: ops(name) })).toThrow(`bastion.operators: "${name}" is a system account name`);
    }
    expect(() => build({ host: 'bastion-1', vars: ops('dave') })).not.toThrow();
  });
});
