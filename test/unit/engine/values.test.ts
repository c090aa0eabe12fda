// Values shared between hosts. Offline: references to nothing and cycles are errors at `check`,
// naming both ends. Planning on probe output recorded on the values e2e fleet (test/fixtures/plan/values,
// two lab hosts that each make a key pair; fresh and converged): unknown values plan "(known after
// apply)", known ones go into the desired state, and an apply runs the generators first, then the
// hosts that wait for their values — in the same run.
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { planFromProbe, readValues, unconverged, withProbed } from '../../../src/plan/planner.js';
import { run } from '../../../src/apply/run.js';
import { InputError } from '../../../src/input/errors.js';
import type { ValueTable } from '../../../src/plan/values.js';
import { recorded, replaying } from './replay.js';

const repo = process.cwd();
const check = async (playbook: string) => {
  const dir = path.join(repo, 'test/fixtures/values-check');
  try {
    await compile(loadInventory(dir), loadPlaybook(path.join(dir, playbook)));
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.file.replace(`${repo}/`, '')} at ${p.at}: ${p.found}`);
    throw e;
  }
  return [];
};

describe('check: what a role reads must exist, and values must not wait on each other', () => {
  test('a missing host, a role the host lacks, a value the role does not publish: each names the reader and what it read', async () => {
    expect(await check('playbook-refs.yaml')).toEqual([
      'roles/v-reader at host b: ctx.hostValue(nowhere, v-pub, key): no host "nowhere" in the inventory',
      'roles/v-reader at host c: ctx.hostValue(b, v-pub, key): host b has no role "v-pub" (it has: v-reader)',
      'roles/v-reader at host d: ctx.hostValue(a, v-pub, nokey): role v-pub publishes no value "nokey" (it publishes: key)',
    ]);
  });

  test('a cycle: each host makes its key from the other\'s', async () => {
    expect(await check('playbook-cycle.yaml')).toEqual([
      'test/fixtures/values-check/playbook-cycle.yaml at host a: a cycle: a v-cycle.key waits for b v-cycle.key waits for a v-cycle.key',
    ]);
  });

  test('a good read compiles; offline the value is unknown and its resource waits for it', async () => {
    expect(await check('playbook-ok.yaml')).toEqual([]);
    const dir = path.join(repo, 'test/fixtures/values-check');
    const c = await compile(loadInventory(dir), loadPlaybook(path.join(dir, 'playbook-ok.yaml')));
    expect([...c.hosts.get('e')!.deferred]).toEqual([['file:/etc/v-reader', [{ host: 'a', role: 'v-pub', name: 'key' }]]]);
    expect(c.hosts.get('a')!.extras).toEqual([{ kind: 'value', role: 'v-pub', name: 'key', probe: 'cat /etc/v-pub.key' }]);
  });
});

describe('planning with values read by the probes (recorded on the values e2e fleet)', () => {
  let compiled: Compiled;
  const dir = path.join(repo, 'test/fixtures/e2e/values');
  const rec = (state: string, host: string) => recorded(`values/${state}`, host);
  beforeAll(async () => {
    compiled = await compile(loadInventory(dir), loadPlaybook(path.join(dir, 'playbook.yaml')));
  });
  const planned = (states: Record<string, string>) => {
    const values: ValueTable = new Map();
    for (const [h, s] of Object.entries(states)) readValues(compiled.hosts.get(h)!, rec(s, h), values);
    return Object.fromEntries(Object.entries(states).map(([h, s]) => [h, planFromProbe(withProbed(compiled.hosts.get(h)!, rec(s, h), values), rec(s, h), 1)]));
  };

  test('fresh hosts: no key published yet; the peer file plans "(known after apply)" and is not applied in this round', () => {
    const p = planned({ 'k-1': 'fresh', 'k-2': 'fresh' });
    const k1 = p['k-1']!;
    expect(k1.plan.changes.map((c) => c.id)).toEqual(['directory:/etc/e2e-keypair', 'command:make the key pair', 'directory:/etc/e2e-peers', 'file:/etc/e2e-peers/k-2.pub']);
    expect(k1.plan.changes[3]!.summary).toMatch(/\(known after apply: k-2 e2e-keypair\.publicKey\)$/);
    expect(k1.plan.changes[3]!.diff).toContain('+(known after apply: k-2 e2e-keypair.publicKey)');
    expect(k1.plan.deferred).toEqual([{ id: 'file:/etc/e2e-peers/k-2.pub', waitsFor: ['k-2 e2e-keypair.publicKey'] }]);
    expect(k1.changed).toEqual([0, 1, 2]);
  });

  test('converged hosts: the keys the probes read are in the desired state, and nothing changes', () => {
    const p = planned({ 'k-1': 'converged', 'k-2': 'converged' });
    for (const h of ['k-1', 'k-2']) expect([h, p[h]!.plan.changes, p[h]!.plan.deferred]).toEqual([h, [], undefined]);
  });

  test('k-2 published, k-1 fresh: the file is an ordinary change that names k-2\'s key', () => {
    const values: ValueTable = new Map();
    readValues(compiled.hosts.get('k-2')!, rec('converged', 'k-2'), values);
    const key = values.get('k-2 e2e-keypair.publicKey')!;
    expect(key).toMatch(/^ssh-ed25519 \S+ k-2$/);
    const ch = withProbed(compiled.hosts.get('k-1')!, rec('fresh', 'k-1'), values);
    const p = planFromProbe(ch, rec('fresh', 'k-1'), 1);
    expect(p.plan.deferred).toBeUndefined();
    expect(p.plan.changes[3]!.diff).toContain(`+${key}`);
    expect(p.changed).toEqual([0, 1, 2, 3]);
    // a file still waiting is not "unconverged" after the round that could not write it
    expect(unconverged(compiled.hosts.get('k-1')!, rec('fresh', 'k-1'), new Set()).map((c) => c.id)).not.toContain('file:/etc/e2e-peers/k-2.pub');
  });

  test('one apply: round 1 makes the key pairs, their verification reads the keys, round 2 plans the peer files with them', async () => {
    const { connector, scripts } = replaying((h) => rec('fresh', h), (h) => rec('converged', h));
    const { results, plan } = await run(compiled, connector, { mode: 'apply', forks: 5, emit: () => {} });
    expect(results.map((r) => [r.host, r.status, r.error])).toEqual([['k-1', 'changed', undefined], ['k-2', 'changed', undefined]]);
    const sent = scripts.get('k-1')!;
    // probe, apply + verify (round 1), probe (round 2: the replayed host is converged by then)
    expect(sent).toHaveLength(3);
    expect(results[0]!.execs).toBe(3);
    expect(sent[1]).toContain('ssh-keygen');
    expect(sent[1]).not.toContain("'/etc/e2e-peers/k-2.pub");
    expect(plan.hosts[0]!.deferred).toHaveLength(1);
    expect(results[0]!.changes.map((c) => c.id)).toEqual(['directory:/etc/e2e-keypair', 'command:make the key pair', 'directory:/etc/e2e-peers']);
  });

  test('a plan asks each host once, the published values in the same exec', async () => {
    const { connector, scripts } = replaying((h) => rec('converged', h), (h) => rec('converged', h));
    const { results } = await run(compiled, connector, { mode: 'plan', forks: 5, emit: () => {} });
    expect(results.map((r) => [r.host, r.status, r.execs])).toEqual([['k-1', 'unchanged', 1], ['k-2', 'unchanged', 1]]);
    expect(scripts.get('k-1')![0]).toContain('cat /etc/e2e-keypair/id.pub');
  });
});
