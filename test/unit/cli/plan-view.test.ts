// What a reviewer reads before a maintenance window, rendered from plans made on probe output
// recorded on the handlers e2e fleet (test/fixtures/plan/handlers, see test/unit/engine/handlers.test.ts).
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { run } from '../../../src/apply/run.js';
import type { Plan } from '../../../src/plan/types.js';
import { renderPlan } from '../../../src/cli/views/plan-view.js';
import { handlersRun } from '../../../src/cli/views/run-view.js';
import { styler } from '../../../src/cli/views/style.js';
import { recorded, replaying } from '../engine/replay.js';

const fixture = path.join(process.cwd(), 'test/fixtures/e2e/handlers');
const plain = styler(false);
const at = (state: string) => (host: string) => recorded(`handlers/${state}`, host);
let compiled: Compiled;
let edited: Plan;

beforeAll(async () => {
  compiled = await compile(loadInventory(fixture), loadPlaybook(path.join(fixture, 'playbook.yaml')));
  edited = (await run(compiled, replaying(at('edited'), at('edited')).connector, { mode: 'plan', forks: 5, emit: () => {} })).plan;
});

describe('plan view', () => {
  test('a changed host lists its restart and reload after its changes; a host with only skips and a warning is one line', () => {
    const lines = renderPlan(edited, plain).split('\n');
    const h1 = lines.indexOf('● h-1: 2 changes, 1 service restart (2 skips, 1 warning, listed below)');
    const h2 = lines.indexOf('● h-2: no changes (2 skips, 1 warning, listed below)');
    expect(h1).toBe(0);
    expect(lines.slice(h1 + 1, h2).filter((l) => l.startsWith('  then:'))).toEqual([
      '  then: restart alpha (service alpha will restart) ← systemd-unit:alpha.service',
      '  then: reload beta (service beta reloads, its process keeps running) ← file:/etc/e2e-svc/beta.conf',
    ]);
    // the handlers come after the host's last change
    expect(lines.findIndex((l) => l.startsWith('  then:'))).toBeGreaterThan(lines.findIndex((l) => l.includes('systemd-unit:alpha.service  update')));
    // h-2 is one line: what follows it is the grouped section
    expect(lines.slice(h2 + 1)).toEqual([
      '',
      'skipped on both hosts: sysctl:kernel.dmesg_restrict, sysctl:kernel.kptr_restrict — a container may not set kernel.* sysctls',
      'warning on both hosts: undersized for role e2e-svc: needs ≥ 64 CPUs, has 2 CPUs (handlers e2e fixture: every host is undersized on purpose)',
      '',
      'Plan: 2 changes on 1 of 2 hosts, 1 service restart, 1 other handler',
    ]);
  });

  test('--verbose lists skips and warnings under every host, as before', () => {
    const out = renderPlan(edited, plain, { verbose: true });
    expect(out.match(/^ {2}· skip sysctl:kernel\.dmesg_restrict: a container may not set kernel\.\* sysctls$/gm)).toHaveLength(2);
    expect(out.match(/^ {2}! undersized for role e2e-svc/gm)).toHaveLength(2);
    expect(out).not.toMatch(/^skipped on/m);
    expect(out).toContain('● h-2: no changes\n');
  });

  test('fifty hosts: the one real change stays in sight; skips and warnings are grouped once', () => {
    const quiet = edited.hosts.find((h) => h.host === 'h-2')!;
    const busy = edited.hosts.find((h) => h.host === 'h-1')!;
    const hosts = Array.from({ length: 50 }, (_, i) => (i === 17 ? { ...busy, host: 'node-17' } : { ...quiet, host: `node-${i}` }));
    const out = renderPlan({ ...edited, hosts }, plain);
    const lines = out.split('\n');
    // one line per quiet host, the changed host with its diffs, two grouped lines, the closing line
    expect(lines.filter((l) => l.startsWith('● ')).length).toBe(50);
    expect(lines.filter((l) => l.startsWith('skipped on all 50 hosts: '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('warning on all 50 hosts: '))).toHaveLength(1);
    expect(out).not.toMatch(/· skip/);
    expect(lines[lines.length - 1]).toBe('Plan: 2 changes on 1 of 50 hosts, 1 service restart, 1 other handler');
    // a skip only some hosts share names them (the first six, then a count)
    const some = hosts.map((h, i) => (i < 10 ? h : { ...h, skipped: [] }));
    expect(renderPlan({ ...edited, hosts: some }, plain)).toMatch(/^skipped on 10 hosts \(node-0, node-1, node-2, node-3, node-4, node-5, … and 4 more\): sysctl:kernel\.dmesg_restrict/m);
    // several reasons on the same hosts: one heading, one line per reason
    const two = hosts.map((h) => ({ ...h, skipped: [...h.skipped, { id: 'service:systemd-timesyncd', reason: 'a container cannot set the clock' }] }));
    expect(renderPlan({ ...edited, hosts: two }, plain)).toContain(
      'skipped on all 50 hosts:\n  sysctl:kernel.dmesg_restrict, sysctl:kernel.kptr_restrict — a container may not set kernel.* sysctls\n  service:systemd-timesyncd — a container cannot set the clock\nwarning on all 50 hosts: ',
    );
  });

  test('a handler pending from an interrupted run shows the same way, marked', () => {
    const h1 = edited.hosts.find((h) => h.host === 'h-1')!;
    const pending = { ...h1.handlers[0]!, pendingSince: { runId: '1764626400000-ab12cd34', at: '2026-12-01T22:00:00.000Z' } };
    const out = renderPlan({ ...edited, hosts: [{ ...h1, handlers: [pending] }] }, plain);
    expect(out).toContain('  then: restart alpha (service alpha will restart) [pending since interrupted run 1764626400000-ab12cd34 at 2026-12-01T22:00:00.000Z] ← systemd-unit:alpha.service');
  });
});

describe("apply's summary", () => {
  test('lists the handlers that ran, per host, as the plan listed them', async () => {
    const { results } = await run(compiled, replaying(at('edited'), at('converged')).connector, { mode: 'apply', forks: 5, emit: () => {} });
    expect(handlersRun(results, plain)).toBe(
      ['h-1:', '  ran: restart alpha (restarted alpha) ← systemd-unit:alpha.service', '  ran: reload beta ← file:/etc/e2e-svc/beta.conf'].join('\n'),
    );
  });
});
