// The handlers a plan lists are the ones apply runs, in the same order: one schedule
// (src/plan/handlers.ts) serves both. Probe output recorded with PROVISION_RECORD_PROBES on the
// handlers e2e fleet (test/fixtures/e2e/handlers): fresh, converged, and "edited" — on h-1 a hand
// edit appended a line to /etc/systemd/system/alpha.service and changed /etc/e2e-svc/beta.conf.
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadLabInventory } from '../roles/helpers.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { planFromProbe } from '../../../src/plan/planner.js';
import { scheduleHandlers } from '../../../src/plan/handlers.js';
import { run } from '../../../src/apply/run.js';
import type { EngineEvent } from '../../../src/apply/events.js';
import type { Plan } from '../../../src/plan/types.js';
import { recorded, replaying } from './replay.js';

const repo = process.cwd();
const fixture = path.join(repo, 'test/fixtures/e2e/handlers');
let compiled: Compiled;

beforeAll(async () => {
  compiled = await compile(loadInventory(fixture), loadPlaybook(path.join(fixture, 'playbook.yaml')));
});

const at = (state: string) => (host: string) => recorded(`handlers/${state}`, host);

describe('the plan lists the handlers its changes trigger', () => {
  test('a hand edit to a unit file and a config: exactly the restart and the reload they cause, with who notifies', () => {
    const h1 = planFromProbe(compiled.hosts.get('h-1')!, at('edited')('h-1'), 1).plan;
    expect(h1.changes.map((c) => c.id)).toEqual(['file:/etc/e2e-svc/beta.conf', 'systemd-unit:alpha.service']);
    expect(h1.handlers).toEqual([
      { name: 'restart alpha', role: 'e2e-svc', effect: 'service alpha will restart', restarts: 'alpha', notifiedBy: ['systemd-unit:alpha.service'] },
      { name: 'reload beta', role: 'e2e-svc', effect: 'service beta reloads, its process keeps running', notifiedBy: ['file:/etc/e2e-svc/beta.conf'] },
    ]);
    expect(planFromProbe(compiled.hosts.get('h-2')!, at('edited')('h-2'), 1).plan.handlers).toEqual([]);
  });

  test('a fresh host: each handler once, in the order the role defines them, with every change that notifies it', () => {
    const h1 = planFromProbe(compiled.hosts.get('h-1')!, at('fresh')('h-1'), 1).plan;
    expect(h1.handlers.map((h) => [h.name, h.notifiedBy])).toEqual([
      ['restart alpha', ['file:/etc/e2e-svc/alpha.conf', 'systemd-unit:alpha.service']],
      ['restart beta', ['systemd-unit:beta.service']],
      ['reload beta', ['file:/etc/e2e-svc/beta.conf']],
    ]);
    expect(planFromProbe(compiled.hosts.get('h-1')!, at('converged')('h-1'), 1).plan.handlers).toEqual([]);
  });
});

describe('apply runs exactly the handlers the plan listed', () => {
  test('the restart and the reload run once, in plan order, after the changes; nothing else restarts', async () => {
    const { connector, scripts } = replaying(at('edited'), at('converged'));
    const events: EngineEvent[] = [];
    const { plan, results } = await run(compiled, connector, { mode: 'apply', forks: 5, emit: (e) => events.push(e) });
    const h1 = results.find((r) => r.host === 'h-1')!;
    expect(h1).toMatchObject({ status: 'changed', execs: 2 });
    expect(h1.handlers).toEqual(plan.hosts.find((h) => h.host === 'h-1')!.handlers);
    const sent = scripts.get('h-1')!.join('\n');
    const restart = sent.indexOf('systemctl restart -- alpha');
    const reload = sent.indexOf('systemctl reload -- beta');
    expect(restart).toBeGreaterThan(sent.indexOf('/etc/systemd/system/alpha.service'));
    expect(reload).toBeGreaterThan(restart);
    expect(sent.match(/systemctl (restart|reload) -- /g)).toEqual(['systemctl restart -- ', 'systemctl reload -- ']);
    expect(events.filter((e) => e.type === 'handler.ran').map((e) => e.type === 'handler.ran' && `${e.host} ${e.handler}`)).toEqual(['h-1 restart alpha', 'h-1 reload beta']);
    // h-2 had nothing to change: probed once, no handler
    expect(results.find((r) => r.host === 'h-2')).toMatchObject({ status: 'unchanged', handlers: [], execs: 1 });
  });

  test('a saved plan whose handlers differ from what apply would run is refused before any change', async () => {
    const planned = await run(compiled, replaying(at('edited'), at('edited')).connector, { mode: 'plan', forks: 5, emit: () => {} });
    const saved: Plan = JSON.parse(JSON.stringify(planned.plan));
    saved.hosts.find((h) => h.host === 'h-1')!.handlers.splice(1, 1); // the reload of beta dropped
    const { connector, scripts } = replaying(at('edited'), at('converged'));
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 5, emit: () => {}, savedPlan: saved });
    const h1 = results.find((r) => r.host === 'h-1')!;
    expect(h1.status).toBe('failed');
    expect(h1.error).toBe(
      'apply would run handlers [restart alpha ← systemd-unit:alpha.service; reload beta ← file:/etc/e2e-svc/beta.conf] ' +
        'but the saved plan lists [restart alpha ← systemd-unit:alpha.service]: make a new plan',
    );
    expect(scripts.get('h-1')).toHaveLength(1); // the probe only
    // the untampered plan is accepted
    const ok = await run(compiled, replaying(at('edited'), at('converged')).connector, { mode: 'apply', forks: 5, emit: () => {}, savedPlan: planned.plan });
    expect(ok.results.map((r) => r.status)).toEqual(['changed', 'unchanged']);
  });
});

describe('the schedule with guarded changes (site roles)', () => {
  test('reload ssh runs right after each guarded sshd change; the others once, at the end of the play, in role order', async () => {
    const site = await compile(loadLabInventory(), loadPlaybook(path.join(repo, 'playbooks/site.yaml')), { limit: 'bastion-1:drand-1', controllerAddresses: ['10.213.7.1'] });
    const bastion = site.hosts.get('bastion-1')!;
    const all = bastion.resources.map((_, i) => i);
    const runs = scheduleHandlers(bastion, all);
    const guardedSshd = all.filter((i) => bastion.resources[i]!.guard && bastion.resources[i]!.notify.includes('reload ssh'));
    expect(guardedSshd.map((i) => bastion.resources[i]!.id)).toEqual(['file:/etc/ssh/sshd_config.d/10-provision.conf', 'conf-dir:/etc/ssh/sshd_config.d', 'file:/etc/ssh/sshd_config.d/20-bastion.conf']);
    expect(runs.filter((r) => r.name === 'reload ssh')).toEqual(guardedSshd.map((i) => ({ name: 'reload ssh', play: 0, afterGuarded: i, notifiedBy: [i] })));
    const atEnd = runs.filter((r) => r.afterGuarded === undefined).map((r) => r.name);
    expect(atEnd).toEqual([...bastion.handlers.keys()].filter((n) => atEnd.includes(n)));
    expect(atEnd).toContain('restart rsyslog');
    // a drand node: the base role's handlers, then drand's restart, once each
    const drand = site.hosts.get('drand-1')!;
    const names = scheduleHandlers(drand, drand.resources.map((_, i) => i)).filter((r) => r.afterGuarded === undefined).map((r) => r.name);
    expect(names[names.length - 1]).toBe('restart drand');
    expect(new Set(names).size).toBe(names.length);
  });
});
