// A plan's listed restarts are exactly the ones apply performs, on real lab hosts: a hand edit to
// one daemon's unit and another's config shows "then: restart alpha" and "then: reload beta";
// applying the saved plan restarts alpha (a NEW main PID), reloads beta (same PID, its reload
// trace written) and leaves every daemon not listed with its PID; apply's own summary lists the
// same handlers; the next plan is empty at one exec per host.
import path from 'node:path';
import fs from 'node:fs';
import { describe, test, expect } from '@jest/globals';
import { cli, cliJson, ssh, useFleet } from './helpers.js';
import type { PlannedHandler } from '../../src/plan/types.js';

const inv = 'test/fixtures/e2e/handlers';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const ADDR = { 'h-1': '10.213.92.11', 'h-2': '10.213.92.12' } as const;
type HostName = keyof typeof ADDR;
const on = (h: HostName, cmd: string) => ssh(ADDR[h], cmd, { knownHosts });
type Out = { hosts: { host: string; result: string; changes: { id: string }[]; handlers: PlannedHandler[]; execs: number; error?: string }[] };
const run = (cmd: 'plan' | 'apply', ...extra: string[]) => cliJson<Out>([cmd, inv, '--playbook', playbook, '--connect-timeout', '4', ...extra]);
const byHost = (o: { data: Out }) => Object.fromEntries(o.data.hosts.map((h) => [h.host, h]));

/** the main PID of a daemon, as systemd knows it (0 when not running) */
const pid = (h: HostName, unit: string): number => {
  const r = on(h, `systemctl show -p MainPID --value ${unit}`);
  expect(r.code).toBe(0);
  return Number(r.stdout.trim());
};
/** how many times beta's ExecReload ran on the host (one line each in /run/beta-reloaded) */
const reloads = (h: HostName): number => Number(on(h, 'cat /run/beta-reloaded 2>/dev/null | wc -l').stdout.trim());
const pids = () => Object.fromEntries((['h-1', 'h-2'] as const).flatMap((h) => ['alpha', 'beta'].map((u) => [`${h} ${u}`, pid(h, u)])));

// Converge once: both daemons run everywhere. This first apply failed once in a CI run (exit 1,
// cause not captured) and passed in every other run: until it is understood, a failure is
// printed with each host's error and the apply runs once more — which must converge, as the
// engine promises of the next run. The tests below assert on that converged fleet.
function convergeOnce(): void {
  const failedHosts = (r: ReturnType<typeof run>) => r.data.hosts.filter((h) => h.error).map((h) => `${h.host}: ${h.error}`);
  let first = run('apply');
  if (first.code !== 0) {
    console.log(`handlers e2e: the first apply failed (exit ${first.code}): ${failedHosts(first).join('; ')} — applying again`);
    first = run('apply');
  }
  expect({ code: first.code, failed: failedHosts(first) }).toEqual({ code: 0, failed: [] });
}
useFleet(inv, { ready: convergeOnce });

describe('a plan shows every restart and reload it will cause', () => {
  let planned: { data: Out };
  let planFile: string;
  let before: Record<string, number>;
  let reloadsBefore: Record<HostName, number>;

  test('a hand edit: the plan lists exactly the restart and the reload it will cause, and changes nothing', () => {
    on('h-1', 'echo "# edited by hand" >> /etc/systemd/system/alpha.service && echo "level = 3" > /etc/e2e-svc/beta.conf');
    before = pids();
    reloadsBefore = { 'h-1': reloads('h-1'), 'h-2': reloads('h-2') };
    for (const [k, v] of Object.entries(before)) expect([k, v > 0]).toEqual([k, true]);
    planFile = path.join(fs.mkdtempSync('/tmp/provision-plan-'), 'plan.json');
    const human = cli(['plan', inv, '--playbook', playbook, '--out', planFile]);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain('  then: restart alpha (service alpha will restart) ← systemd-unit:alpha.service\n');
    expect(human.stdout).toContain('  then: reload beta (service beta reloads, its process keeps running) ← file:/etc/e2e-svc/beta.conf\n');
    expect(human.stdout).toMatch(/^● h-2: no changes \(2 skips, 1 warning, listed below\)$/m);
    expect(human.stdout).toMatch(/^skipped on both hosts: sysctl:kernel\.dmesg_restrict, sysctl:kernel\.kptr_restrict — a container may not set kernel\.\* sysctls$/m);
    expect(human.stdout).toContain('Plan: 2 changes on 1 of 2 hosts, 1 service restart, 1 other handler\n');
    planned = run('plan');
    const h = byHost(planned);
    expect(h['h-1']!.handlers.map((x) => [x.name, x.restarts, x.notifiedBy])).toEqual([
      ['restart alpha', 'alpha', ['systemd-unit:alpha.service']],
      ['reload beta', undefined, ['file:/etc/e2e-svc/beta.conf']],
    ]);
    expect(h['h-2']!.handlers).toEqual([]);
    // the saved plan carries the same handlers
    const saved = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { hosts: { host: string; handlers: PlannedHandler[] }[] };
    expect(saved.hosts.find((x) => x.host === 'h-1')!.handlers).toEqual(h['h-1']!.handlers);
    // planning restarted nothing
    expect(pids()).toEqual(before);
  });

  test('a saved plan whose handlers were altered is refused, and nothing is done', () => {
    const altered = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { hosts: { host: string; handlers: PlannedHandler[] }[] };
    altered.hosts.find((x) => x.host === 'h-1')!.handlers = [];
    const file = planFile.replace(/plan\.json$/, 'altered.json');
    fs.writeFileSync(file, JSON.stringify(altered));
    const r = run('apply', '--plan', file);
    expect(r.code).toBe(1);
    expect(byHost(r)['h-1']!.error).toMatch(/^apply would run handlers \[restart alpha ← systemd-unit:alpha\.service; reload beta ← file:\/etc\/e2e-svc\/beta\.conf\] but the saved plan lists \[\]: make a new plan$/);
    expect(on('h-1', 'cat /etc/e2e-svc/beta.conf').stdout).toBe('level = 3\n');
    expect(pids()).toEqual(before);
  });

  test('applying the saved plan restarts exactly the listed daemon, reloads the other, and says so', () => {
    const r = run('apply', '--plan', planFile);
    expect(r.code).toBe(0);
    const h = byHost(r);
    expect([h['h-1']!.result, h['h-1']!.execs]).toEqual(['changed', 2]);
    expect(h['h-1']!.handlers).toEqual(byHost(planned)['h-1']!.handlers);
    expect(h['h-2']!.handlers).toEqual([]);
    const after = pids();
    // listed restart: a new main PID
    expect(after['h-1 alpha']).toBeGreaterThan(0);
    expect(after['h-1 alpha']).not.toBe(before['h-1 alpha']);
    // listed reload: same process, its reload ran
    expect(after['h-1 beta']).toBe(before['h-1 beta']);
    expect(reloads('h-1')).toBe(reloadsBefore['h-1'] + 1);
    // not listed: unchanged
    expect([after['h-2 alpha'], after['h-2 beta']]).toEqual([before['h-2 alpha'], before['h-2 beta']]);
    expect(reloads('h-2')).toBe(reloadsBefore['h-2']);
    expect(on('h-1', 'tail -n 1 /etc/systemd/system/alpha.service').stdout.trim()).toBe('WantedBy=multi-user.target');
  });

  test("apply's human summary lists the handlers it ran; the next plan is empty at one exec per host", () => {
    on('h-1', 'echo "speed = 9" > /etc/e2e-svc/alpha.conf');
    const before2 = pid('h-1', 'alpha');
    const human = cli(['apply', inv, '--playbook', playbook]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('handlers run:\nh-1:\n  ran: restart alpha (restarted alpha) ← file:/etc/e2e-svc/alpha.conf\n');
    expect(pid('h-1', 'alpha')).not.toBe(before2);
    const next = run('plan');
    expect(next.code).toBe(0);
    for (const h of next.data.hosts) expect([h.host, h.changes, h.handlers, h.execs]).toEqual([h.host, [], [], 1]);
  });
});
