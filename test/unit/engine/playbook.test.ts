import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { describe, test, expect } from '@jest/globals';
import { batches, loadPlaybook } from '../../../src/playbook/load.js';

describe('serial batches', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'];
  test('no serial: one batch of every host', () => expect(batches(hosts, undefined)).toEqual([hosts]));
  test('a count', () => expect(batches(hosts, { count: 2 })).toEqual([['a', 'b'], ['c', 'd'], ['e']]));
  test('a percentage rounds down, at least one host per batch', () => {
    expect(batches(hosts, { percent: 40 })).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches(hosts, { percent: 10 })).toEqual(hosts.map((h) => [h]));
    expect(batches(hosts, { percent: 100 })).toEqual([hosts]);
  });
  test('no hosts: no batch', () => expect(batches([], { count: 3 })).toEqual([]));
});

describe('the site playbook', () => {
  test('loads with its plays in order, bastions first', () => {
    const pb = loadPlaybook(path.join(process.cwd(), 'playbooks/site.yaml'));
    expect(pb.plays[0]!.pattern).toBe('bastions');
    expect(pb.plays.map((p) => p.roles.map((r) => r.name)).flat()).toContain('drand-node');
    expect(pb.plays[0]!.serial).toEqual({ count: 1 });
  });

  test('role vars given in a play are kept per role', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-pb-'));
    const file = path.join(dir, 'p.yaml');
    fs.writeFileSync(file, '- name: x\n  hosts: all\n  roles:\n    - base\n    - { role: drand-node, vars: { beacon_id: quicknet } }\n  serial: "25%"\n');
    const pb = loadPlaybook(file);
    expect(pb.plays[0]!.roles).toEqual([{ name: 'base', vars: {} }, { name: 'drand-node', vars: { beacon_id: 'quicknet' } }]);
    expect(pb.plays[0]!.serial).toEqual({ percent: 25 });
  });
});
