// The example role of docs/writing-a-role.md (docs/example/roles/example-cache), compiled, planned
// and applied through the engine's own path (compile → probe → plan → apply rounds) on probe output
// recorded on two lab hosts (test/fixtures/plan/example-cache: fresh, and after one apply).
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { run } from '../../../src/apply/run.js';
import { recorded, replaying } from '../engine/replay.js';

const repo = process.cwd();
let compiled: Compiled;
const rec = (state: string) => (host: string) => recorded(`example-cache/${state}`, host);
type Diffed = { id: string; summary: string; diff?: string };

beforeAll(async () => {
  compiled = await compile(loadInventory(path.join(repo, 'docs/example/writing-a-role-lab')), loadPlaybook(path.join(repo, 'docs/example/playbook.yaml')));
});

describe('the example role of docs/writing-a-role.md', () => {
  test('offline (check): three resources, memory not read yet, the peer id unknown', () => {
    const ch = compiled.hosts.get('cache-1')!;
    expect(ch.resources.map((r) => r.id)).toEqual(['directory:/etc/example-cache', 'command:make the node id', 'file:/etc/example-cache/cache.conf']);
    expect([...ch.deferred.keys()]).toEqual(['file:/etc/example-cache/cache.conf']);
    expect(ch.extras.map((x) => `${x.kind} ${x.role}.${x.name}`)).toEqual(['value example-cache.nodeId', 'fact example-cache.memory']);
  });

  test('fresh hosts: the size comes from the memory fact, the peer id is "(known after apply)"', async () => {
    const { connector } = replaying(rec('fresh'), rec('fresh'));
    const { plan } = await run(compiled, connector, { mode: 'plan', forks: 2, emit: () => {} });
    const file = plan.hosts[0]!.changes.find((c) => c.id === 'file:/etc/example-cache/cache.conf') as Diffed;
    // the lab host's MemTotal (24,684,092 kB → 24,105 MiB), no cgroup limit: 25 % is 6026 MiB
    expect(file.diff).toContain('+size_mib = 6026\n');
    expect(file.diff).toContain('+peer cache-2 10.213.97.22 (known after apply: cache-2 example-cache.nodeId)');
    expect(plan.hosts.map((h) => h.execs)).toEqual([1, 1]);
  });

  test('after one apply: each names the other by the id it made, and nothing is left to do', async () => {
    const { connector } = replaying(rec('converged'), rec('converged'));
    const { plan, values } = await run(compiled, connector, { mode: 'plan', forks: 2, emit: () => {} });
    expect(plan.hosts.map((h) => [h.host, h.changes, h.execs])).toEqual([['cache-1', [], 1], ['cache-2', [], 1]]);
    expect(values.get('cache-2 example-cache.nodeId')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('one apply from fresh: ids made first, then the config naming them, its handler run once', async () => {
    const { connector, scripts } = replaying(rec('fresh'), rec('converged'));
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 2, emit: () => {} });
    expect(results.map((r) => [r.host, r.status, r.error])).toEqual([['cache-1', 'changed', undefined], ['cache-2', 'changed', undefined]]);
    const sent = scripts.get('cache-1')!;
    expect(sent[1]).toContain('/proc/sys/kernel/random/uuid');
    expect(sent[1]).not.toContain('date +%s >>');
  });
});
