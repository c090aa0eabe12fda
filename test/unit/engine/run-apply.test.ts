// How apply spends its execs, on probe output recorded on a lab host (test/fixtures/plan): the last
// batch of changes, the notified handlers and the verification probe go in ONE exec, and a host
// whose verification fails counts against the play's failure budget before the next serial batch.
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { run } from '../../../src/apply/run.js';
import type { EngineEvent } from '../../../src/apply/events.js';
import { recorded, replaying } from './replay.js';

const repo = process.cwd();

let compiled: Compiled;
beforeAll(async () => {
  const inv = loadInventory(path.join(repo, 'test/fixtures/e2e/engine'));
  compiled = await compile(inv, loadPlaybook(path.join(repo, 'test/fixtures/e2e/engine/playbook.yaml')), { limit: 'app-1:app-2' });
});

describe('apply execs', () => {
  test('repairing drift costs two execs: the probe, then changes + verification in one', async () => {
    const { connector, scripts } = replaying(recorded('drifted'), recorded('converged'));
    const events: EngineEvent[] = [];
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 5, emit: (e) => events.push(e) });
    for (const host of ['app-1', 'app-2']) {
      expect(results.find((r) => r.host === host)).toMatchObject({ status: 'changed', execs: 2 });
      const last = scripts.get(host)![1]!;
      // the file and the service steps, then the probe with its health check retried every 0.2 s
      expect(last.indexOf('/srv/e2e/message.txt')).toBeLessThan(last.indexOf("@@r 0'"));
      expect(last).toMatch(/sleep 0\.2/);
    }
    const types = events.filter((e) => 'host' in e && e.host === 'app-1').map((e) => e.type);
    expect(types.slice(-5)).toEqual(['change.applying', 'change.applying', 'host.verifying', 'change.applied', 'change.applied']);
  });

  test('a fresh host: the notified handler runs in the exec that verifies, after the last change', async () => {
    const { connector, scripts } = replaying(recorded('fresh'), recorded('converged'));
    const events: EngineEvent[] = [];
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 5, emit: (e) => events.push(e) });
    expect(results.map((r) => r.status)).toEqual(['changed', 'changed']);
    const sent = scripts.get('app-1')!;
    const last = sent[sent.length - 1]!;
    const restart = last.indexOf('systemctl restart -- e2e-web');
    expect(restart).toBeGreaterThan(last.indexOf('systemctl enable -- e2e-web'));
    expect(restart).toBeLessThan(last.indexOf("@@r 0'"));
    // the restart handler runs once, and in no other exec
    expect(sent.filter((s) => s.includes('systemctl restart -- e2e-web'))).toHaveLength(1);
    expect(events.filter((e) => e.type === 'handler.ran' && e.host === 'app-1')).toHaveLength(1);
    expect(results[0]!.execs).toBe(sent.length);
  });

  test('a failed health check in a serial batch spends the failure budget: the next batch is not run', async () => {
    const unhealthy = { ...recorded('converged'), health: [1] };
    const { connector, scripts } = replaying(recorded('drifted'), unhealthy);
    const strict: Compiled = { ...compiled, plays: compiled.plays.map((p) => ({ ...p, serial: { count: 1 }, maxFailPercentage: 0 })) };
    const events: EngineEvent[] = [];
    const { results } = await run(strict, connector, { mode: 'apply', forks: 5, emit: (e) => events.push(e) });
    expect(results[0]).toMatchObject({ host: 'app-1', status: 'failed', error: 'health check failed: e2e-web answers' });
    expect(results[1]).toMatchObject({ host: 'app-2', status: 'not-run' });
    expect(scripts.get('app-2')).toHaveLength(1); // probed, never applied
    expect(events.some((e) => e.type === 'budget.exceeded')).toBe(true);
  });
});
