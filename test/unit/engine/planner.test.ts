// The planner is pure: recorded probe output of a real lab host in, a plan out. The recordings in
// test/fixtures/plan/ were made with PROVISION_RECORD_PROBES on app-1 of the engine's e2e fleet:
// fresh (nothing applied), converged (after apply), drifted (message edited, service stopped).
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type CompiledHost } from '../../../src/plan/compile.js';
import { planFromProbe, unconverged } from '../../../src/plan/planner.js';
import { checkPlacementOnline } from '../../../src/plan/rules.js';
import { recorded } from './replay.js';

const repo = process.cwd();
let app1: CompiledHost;

beforeAll(async () => {
  const inv = loadInventory(path.join(repo, 'test/fixtures/e2e/engine'));
  const pb = loadPlaybook(path.join(repo, 'test/fixtures/e2e/engine/playbook.yaml'));
  app1 = (await compile(inv, pb, { limit: 'app-1' })).hosts.get('app-1')!;
});

describe('planFromProbe on recorded output', () => {
  test('a fresh host: every resource is a change, in role order, with facts parsed', () => {
    const p = planFromProbe(app1, recorded('fresh'), 1);
    expect(p.plan.changes.map((c) => c.id)).toEqual(app1.resources.map((r) => r.id));
    expect(p.changed).toEqual(app1.resources.map((_, i) => i));
    const file = p.plan.changes.find((c) => c.id === 'file:/srv/e2e/message.txt')!;
    expect(file.action).toBe('create');
    expect(file.diff).toContain('+-it\'s "quoted" $(touch /tmp/pwned)');
    expect(p.plan.facts).toMatchObject({ arch: 'x86_64', cpus: 2, container: 'systemd-nspawn', os: { id: 'debian', versionId: '12' } });
    expect(p.plan.facts!.memoryGiB).toBeGreaterThan(1);
    expect(p.plan.unhealthy).toEqual(['e2e-web answers']);
  });

  test('a converged host: no change, healthy, and the same fingerprint for the same state', () => {
    const a = planFromProbe(app1, recorded('converged'), 1);
    const b = planFromProbe(app1, recorded('converged'), 1);
    expect(a.plan.changes).toEqual([]);
    expect(a.plan.unhealthy).toEqual([]);
    expect(a.plan.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a.plan.fingerprint).toBe(b.plan.fingerprint);
    expect(unconverged(app1, recorded('converged'), new Set())).toEqual([]);
  });

  test('drift made by hand: exactly the edited file and the stopped service, with a diff', () => {
    const p = planFromProbe(app1, recorded('drifted'), 1);
    expect(p.plan.changes.map((c) => c.id)).toEqual(['file:/srv/e2e/message.txt', 'service:e2e-web']);
    expect(p.plan.changes[0]!.diff).toMatch(/^-tampered$/m);
    expect(p.plan.changes[1]!.summary).toBe('start e2e-web: active: inactive → active');
    expect(p.plan.fingerprint).not.toBe(planFromProbe(app1, recorded('converged'), 1).plan.fingerprint);
    expect(unconverged(app1, recorded('drifted'), new Set()).map((c) => c.id)).toEqual(['file:/srv/e2e/message.txt', 'service:e2e-web']);
  });

  test('the handlers a plan lists: the restart its unit change notifies, with effect and the change that notifies it', () => {
    expect(planFromProbe(app1, recorded('fresh'), 1).plan.handlers).toEqual([
      { name: 'restart e2e-web', role: 'e2e-app', effect: 'service e2e-web will restart', restarts: 'e2e-web', notifiedBy: ['systemd-unit:e2e-web.service'] },
    ]);
    // an edited message file and a stopped service notify nothing; a converged host triggers nothing
    expect(planFromProbe(app1, recorded('drifted'), 1).plan.handlers).toEqual([]);
    expect(planFromProbe(app1, recorded('converged'), 1).plan.handlers).toEqual([]);
  });

  test('sizing against facts: enforce fails the host with have and need, warn only warns', () => {
    const needy = { ...app1, roles: app1.roles.map((r) => ({ ...r, role: { ...r.role, sizing: { memoryGiB: 64, cpus: 1, source: 'test' } } })) };
    const enforce = planFromProbe({ ...needy, host: { ...app1.host, sizing: 'enforce' } }, recorded('converged'), 1);
    expect(enforce.plan.error).toMatch(/^undersized for role e2e-app: needs ≥ 64 GiB memory, has \d+(\.\d+)? GiB memory \(test\)$/);
    const warn = planFromProbe({ ...needy, host: { ...app1.host, sizing: 'warn' } }, recorded('converged'), 1);
    expect(warn.plan.error).toBeUndefined();
    expect(warn.plan.warnings.join('\n')).toMatch(/undersized for role e2e-app/);
  });

  test('a probe section missing from the output is an error, not an empty state', () => {
    const cut = recorded('converged');
    cut.resources = cut.resources.slice(0, 3);
    expect(() => planFromProbe(app1, cut, 1)).toThrow();
  });
});

describe('placement with facts: two inventory names on one machine-id are one machine', () => {
  const defs = new Map([
    ['drand-node', { name: 'drand-node', placement: { notWith: ['drand-http-relay'] } }],
    ['drand-http-relay', { name: 'drand-http-relay', placement: { notWith: ['drand-node'] } }],
  ]) as never;
  const view = (name: string, roles: string[]) => ({ name, address: '', groups: [], roles, provider: 'lab' });
  const views = new Map([['node-a', view('node-a', ['drand-node'])], ['relay-a', view('relay-a', ['drand-http-relay'])], ['relay-b', view('relay-b', ['drand-http-relay'])]]);

  test('a relay on the machine of a drand node is refused on both names', () => {
    const out = checkPlacementOnline(new Map([['node-a', 'm1'], ['relay-a', 'm1'], ['relay-b', 'm2']]), views, defs);
    expect([...out.keys()].sort()).toEqual(['node-a', 'relay-a']);
    expect(out.get('relay-a')![0]).toMatch(/role drand-http-relay and role drand-node must not share a machine|role drand-node and role drand-http-relay must not share a machine/);
    expect(out.get('relay-a')![0]).toMatch(/same machine-id/);
  });

  test('distinct machines pass', () => {
    expect(checkPlacementOnline(new Map([['node-a', 'm1'], ['relay-a', 'm2'], ['relay-b', 'm3']]), views, defs).size).toBe(0);
  });
});
