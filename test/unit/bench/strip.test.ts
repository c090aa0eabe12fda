// The bench's "first apply" starts from nodes with base converged and drand-node stripped: the plan
// after the strip must hold drand-node's changes only (bench/lib/strip.ts). Checked against the
// resource → role map of the bench's real playbook and inventory, compiled offline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { writeFleet } from '../../../bench/lib/fleet.js';
import { checkStripPlan } from '../../../bench/lib/strip.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile } from '../../../src/plan/compile.js';
import { repoRoot } from '../../../src/roles/registry.js';

describe('the plan after drand-node is stripped', () => {
  let dir: string;
  let roleOf: Map<string, Map<string, string>>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-strip-'));
    const bf = writeFleet(dir, repoRoot, 2);
    fs.writeFileSync(bf.fleet.keyPath, ''); // compile reads no key; the inventory names one
    const c = await compile(loadInventory(bf.invDir), loadPlaybook(path.join(repoRoot, 'bench/provision-site.yaml')), { controllerAddresses: ['10.213.50.1'] });
    roleOf = new Map([...c.hosts].map(([n, h]) => [n, h.roleOf]));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const of = (h: string) => roleOf.get(h)!;
  const ids = (role: string) => [...of('drand-1')].filter(([, r]) => r === role).map(([id]) => id);

  test('the bench nodes carry base and drand-node', () => {
    expect(ids('drand-node')).toEqual(expect.arrayContaining(['user:drand', 'group:drand', 'file:/usr/local/bin/drand', 'service:drand']));
    expect(ids('base').length).toBeGreaterThan(20);
  });

  test("drand-node's changes only: clean, and what drand-node kept is named", () => {
    const changes = ids('drand-node').filter((id) => !id.startsWith('apt:')).map((id) => ({ id }));
    const c = checkStripPlan([{ host: 'drand-1', changes }, { host: 'drand-2', changes }], ['drand-1', 'drand-2'], of);
    expect(c.foreign).toEqual([]);
    expect(c.untouched).toEqual([]);
    expect(c.keptIds).toEqual(ids('drand-node').filter((id) => id.startsWith('apt:')));
    expect(c.keptIds.length).toBeGreaterThan(0);
  });

  test('a change of base is foreign; a node with nothing to do is named', () => {
    const base = ids('base')[0]!;
    const c = checkStripPlan([{ host: 'drand-1', changes: [{ id: 'user:drand' }, { id: base }] }, { host: 'drand-2', changes: [] }], ['drand-1', 'drand-2'], of);
    expect(c.foreign).toEqual([{ host: 'drand-1', id: base, role: 'base' }]);
    expect(c.untouched).toEqual(['drand-2']);
  });

  test('a change no role declares is foreign too', () => {
    const c = checkStripPlan([{ host: 'drand-1', changes: [{ id: 'file:/etc/unknown' }] }], ['drand-1'], of);
    expect(c.foreign).toEqual([{ host: 'drand-1', id: 'file:/etc/unknown', role: '(unknown)' }]);
  });
});
