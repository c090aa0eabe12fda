// What an interrupted run leaves on a host, and how the next one uses it — on probe output recorded
// on a lab host of the fault drills' fleet (test/fixtures/plan-faults, PROVISION_RECORD_PROBES):
// "interrupted" was recorded after an apply's remote shell was killed between the config change and
// its restart handler (the handler pending, the run's lock left until its lease expires, a restore
// armed by a guarded change); "converged" after the next apply.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type Compiled } from '../../../src/plan/compile.js';
import { planFromProbe } from '../../../src/plan/planner.js';
import { parseRecords, handlerFile } from '../../../src/plan/host-records.js';
import { hasChanges } from '../../../src/plan/types.js';
import { run, type Connector } from '../../../src/apply/run.js';
import type { ProbeOutput } from '../../../src/plan/probe-script.js';
import {
  takeLockScript, renewLockScript, renewerScript, releaseLockScript, recordScript, applyExecScript, armRestoreScript, confirmScript, disarmScript, notePendingScript,
} from '../../../src/apply/scripts.js';
import { renderPlan } from '../../../src/cli/views/plan-view.js';
import { styler } from '../../../src/cli/views/style.js';
import { answer, recorded } from './replay.js';

const repo = process.cwd();
const inv = path.join(repo, 'test/fixtures/e2e/faults');
const probe = (state: string): ProbeOutput => JSON.parse(fs.readFileSync(path.join(repo, 'test/fixtures/plan-faults', state, 'f-1.json'), 'utf8')) as ProbeOutput;

let compiled: Compiled;
beforeAll(async () => {
  compiled = await compile(loadInventory(inv), loadPlaybook(path.join(inv, 'playbook.yaml')), { limit: 'f-1' });
});

/** Replays `first` for the probe and `after` for every later exec; `lockAnswer` overrides the lock step. */
function replaying(first: ProbeOutput, after: ProbeOutput, lockAnswer?: { status: number; output: string }) {
  const sent: string[] = [];
  const connector: Connector = {
    async connect() {
      return {
        get execCount() {
          return sent.length;
        },
        async run(script: string) {
          sent.push(script);
          let out = answer(script, sent.length === 1 ? first : after);
          if (lockAnswer && sent.length === 2) {
            // the first step of an apply exec is the lock: answer it as a refusing host does, and stop
            const [, mark] = /'(@@[0-9a-f]{16}@@)s 0'/.exec(script)!;
            out = `${mark}s 0\n${lockAnswer.output}\n${mark}end ${lockAnswer.status}\n`;
          }
          return { stdout: out, stderr: '', code: 0 };
        },
      };
    },
    testFreshLogin: async () => {},
  };
  return { connector, sent };
}

describe('records an interrupted run left on the host', () => {
  test('the plan shows the pending handler with its run and exits as "changes pending"', () => {
    const ch = compiled.hosts.get('f-1')!;
    const p = planFromProbe(ch, probe('interrupted'), 1);
    expect(p.plan.handlers).toEqual([
      expect.objectContaining({ name: 'restart fault-app', notifiedBy: [], pendingSince: { runId: expect.stringMatching(/^\d+-[0-9a-f]{8}$/), at: expect.stringMatching(/^2026-/) } }),
    ]);
    expect(p.plan.records!.lock).toMatchObject({ owner: expect.stringMatching(/@/) });
    expect(p.plan.records!.armed).toHaveLength(1);
    expect(p.plan.warnings.join('\n')).toMatch(/a restore armed by run \S+ at .* was never confirmed/);
    const view = renderPlan({ version: 1, inventory: inv, playbook: '', desired: {}, hosts: [p.plan], createdAt: '' }, styler(false));
    expect(view).toMatch(/then: restart fault-app .*\[pending since interrupted run \d+-[0-9a-f]{8} at 2026-/);
    expect(view).toMatch(/1 left pending by an interrupted run/);
    expect(hasChanges({ version: 1, inventory: inv, playbook: '', desired: {}, hosts: [p.plan], createdAt: '' })).toBe(true);
  });

  test('a converged host has nothing pending, no lock, and its last run recorded', () => {
    const p = planFromProbe(compiled.hosts.get('f-1')!, probe('converged'), 1);
    expect(p.plan.handlers).toEqual([]);
    expect(p.plan.records!.lock).toBeUndefined();
    expect(p.plan.records!.lastRun).toMatchObject({ result: 'applied', roles: ['fault-app'] });
    expect(p.plan.changes).toEqual([]);
  });

  test('a pending handler of a name no role defines any more is a warning, not work', () => {
    const text = `now 100\npending ${Buffer.from('gone').toString('hex')} 1-aa 90`;
    const p = planFromProbe(compiled.hosts.get('f-1')!, { ...probe('converged'), records: text }, 1);
    expect(p.plan.handlers).toEqual([]);
    expect(p.plan.warnings.join('\n')).toMatch(/handler "gone" is pending since run 1-aa .* no role of this host defines it/);
  });

  test('several runs left the same handler pending: the earliest is shown; a lock past its lease is expired', () => {
    const hex = Buffer.from('restart fault-app').toString('hex');
    const r = parseRecords(`now 2000\ngen 7\npending ${hex} 2-bb 1500\npending ${hex} 1-aa 1200\nlock 1-aa root@ctl 1000 1900`);
    expect(r.pending).toEqual([{ name: 'restart fault-app', runId: '1-aa', at: new Date(1200_000).toISOString().replace('.000Z', 'Z') }]);
    expect(r.generation).toBe(7);
    expect(r.lock).toMatchObject({ runId: '1-aa', owner: 'root@ctl', expired: true });
  });
});

describe('the next apply', () => {
  test('runs the pending handler (dropping its record only after it succeeded), locked with the probed generation, in ONE exec after the probe', async () => {
    const { connector, sent } = replaying(probe('interrupted'), probe('converged'));
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 1, emit: () => {}, owner: 'ops@laptop' });
    expect(results[0]).toMatchObject({ status: 'changed', execs: 2 });
    const exec = sent[1]!;
    const gen = parseRecords(probe('interrupted').records!).generation;
    const lock = exec.indexOf(`[ "$gen" != ${gen} ]`);
    const restart = exec.indexOf('systemctl restart -- fault-app');
    const drop = exec.indexOf(`rm -f ${handlerFile('restart fault-app')}`);
    const record = exec.indexOf('/var/lib/provision/last-run.tmp');
    expect(lock).toBeGreaterThan(0);
    expect([lock < restart, restart < drop, drop < record]).toEqual([true, true, true]);
    // the output comes back from a file at the end: a dead controller cannot cut the exec short
    expect(exec).toMatch(/^trap '' HUP PIPE$/m);
  });

  test('a change records the handlers it notifies before it is made, in the same step', async () => {
    // the engine fixture's fresh host (test/fixtures/plan/fresh): its unit file notifies "restart e2e-web"
    const engine = await compile(loadInventory(path.join(repo, 'test/fixtures/e2e/engine')), loadPlaybook(path.join(repo, 'test/fixtures/e2e/engine/playbook.yaml')), { limit: 'app-1' });
    const { connector, sent } = replaying(recorded('fresh'), recorded('converged'));
    await run(engine, connector, { mode: 'apply', forks: 1, emit: () => {} });
    const exec = sent.slice(1).find((x) => x.includes('/etc/systemd/system/e2e-web.service'))!; // not the probe
    const note = exec.indexOf(`>> ${handlerFile('restart e2e-web')}`);
    const unitStep = exec.lastIndexOf("'@@", exec.indexOf('/etc/systemd/system/e2e-web.service'));
    expect(note).toBeGreaterThan(unitStep); // in the unit's own step …
    expect(note).toBeLessThan(exec.indexOf('/etc/systemd/system/e2e-web.service')); // … before the unit is written
  });

  test('a host locked by another live run is refused with the owner, and nothing else is sent to it', async () => {
    const refusal = 'locked by ops@laptop (run 1-aa since 2026-12-01T22:00:00Z, lease until 2026-12-01T22:01:00Z): another apply is working on this host';
    const { connector, sent } = replaying(probe('interrupted'), probe('converged'), { status: 3, output: refusal });
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 1, emit: () => {} });
    expect(results[0]).toMatchObject({ status: 'failed', error: refusal, execs: 2 });
    expect(sent).toHaveLength(2); // no record written, no lock released: neither is this run's
  });

  test('interrupted before the apply starts: no host is touched, each says why', async () => {
    const { connector, sent } = replaying(probe('interrupted'), probe('converged'));
    const ac = new AbortController();
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 1, emit: (e) => e.type === 'host.planned' && ac.abort(), signal: ac.signal });
    expect(results[0]).toMatchObject({ status: 'not-run', error: 'not applied: the run was interrupted' });
    expect(sent).toHaveLength(1);
  });
});

describe('scripts the host runs for its records', () => {
  test('every one parses as POSIX sh (dash -n)', () => {
    const id = { runId: '1-aa', owner: "o'p s@h" };
    const scripts = [
      takeLockScript(id, 3), renewLockScript(id), renewerScript(id), releaseLockScript(id), notePendingScript('1-aa', ['restart x', "it's"]),
      recordScript({ runId: '1-aa', at: 'now', by: 'x', playbook: 'p', roles: [], fingerprint: 'f', result: 'applied', changes: 0 }),
      applyExecScript('1-aa', 1, 'echo hi'), armRestoreScript('1-aa', ['/etc/x y'], "systemctl reload ssh"), confirmScript('1-aa'), disarmScript('1-aa'),
    ];
    for (const s of scripts) expect(() => execFileSync('dash', ['-n'], { input: s })).not.toThrow();
  });
});
