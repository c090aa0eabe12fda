// The engine on real lab hosts: fresh apply converges, a second run is a no-op with ONE exec per
// host, drift made by hand shows up as exactly those changes and is repaired, a saved plan is
// refused once the host drifted, an unreachable host is reported while the others converge, and
// hostile values reach the host unchanged without running anything.
import path from 'node:path';
import fs from 'node:fs';
import { describe, test, expect } from '@jest/globals';
import { cli, cliJson, ssh, useFleet } from './helpers.js';

const inv = 'test/fixtures/e2e/engine';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const APP1 = '10.213.98.11';
const APP2 = '10.213.98.12';
const hostile = fs.readFileSync(path.resolve(inv, 'group_vars/apps.yaml'), 'utf8');
const expectedMessage = "-it's \"quoted\" $(touch /tmp/pwned) `touch /tmp/pwned2` ; rm -rf /tmp/x\nsecond line  with  spaces\n";
const on = (addr: string, cmd: string) => ssh(addr, cmd, { knownHosts });
const run = (cmd: 'plan' | 'apply', ...extra: string[]) => cliJson([cmd, inv, '--playbook', playbook, '--connect-timeout', '4', ...extra]);

// "ghost" stays unbooted so the engine meets a host that does not answer.
useFleet(inv, { only: (name) => name !== 'ghost' });
test('the fixture carries a hostile value', () => expect(hostile).toContain('$(touch /tmp/pwned)'));

describe('engine on lab hosts', () => {
  test('plan on fresh hosts shows changes and changes nothing', () => {
    const r = run('plan', '--limit', '!ghost');
    expect(r.code).toBe(2);
    const app1 = r.data.hosts.find((h) => h.host === 'app-1')!;
    expect(app1.changes.map((c) => c.id)).toEqual(expect.arrayContaining(['file:/srv/e2e/message.txt', 'service:e2e-web', 'apt:hello,nftables']));
    expect(on(APP1, 'test -e /srv/e2e || echo absent').stdout.trim()).toBe('absent');
  });

  test('apply converges the reachable hosts and reports the unreachable one', () => {
    const r = run('apply');
    const byHost = Object.fromEntries(r.data.hosts.map((h) => [h.host, h]));
    expect(r.code).toBe(1); // not every host converged: ghost is down
    expect(byHost['ghost']!.result).toBe('unreachable');
    expect(byHost['ghost']!.error).toMatch(/ghost|10\.213\.98\.99/);
    for (const h of ['app-1', 'app-2']) {
      expect(byHost[h]!.result).toBe('changed');
      expect(byHost[h]!.error).toBeUndefined();
    }
    // Outcomes on the hosts themselves.
    for (const addr of [APP1, APP2]) {
      expect(on(addr, 'cat /srv/e2e/message.txt').stdout).toBe(expectedMessage);
      expect(on(addr, 'stat -c "%U %G %a" /srv/e2e/message.txt').stdout.trim()).toBe('e2eapp e2eapp 644');
      expect(on(addr, 'systemctl is-active e2e-web; systemctl is-enabled e2e-web').stdout.split('\n').slice(0, 2)).toEqual(['active', 'enabled']);
      expect(on(addr, 'ls /tmp/pwned /tmp/pwned2 2>&1 || true').stdout).toMatch(/No such file/);
      expect(on(addr, 'grep -c "^E2E_MODE=lab$" /etc/environment').stdout.trim()).toBe('1');
      expect(on(addr, 'sysctl -n net.ipv4.tcp_keepalive_time').stdout.trim()).toBe('600');
      expect(on(addr, 'nft list table inet e2e >/dev/null && echo loaded').stdout.trim()).toBe('loaded');
      expect(on(addr, 'test -f /var/lib/e2e/initialised && echo yes').stdout.trim()).toBe('yes');
      expect(on(addr, "dpkg-query -W -f='${Status}' hello").stdout).toBe('install ok installed');
    }
  });

  test('a second apply changes nothing and costs one exec per host', () => {
    const r = run('apply', '--limit', '!ghost');
    expect(r.code).toBe(0);
    for (const h of r.data.hosts) {
      expect(h.result).toBe('unchanged');
      expect(h.changes).toEqual([]);
      expect(h.execs).toBe(1);
    }
    expect(run('plan', '--limit', '!ghost').code).toBe(0);
  });

  test('drift made by hand appears as exactly those changes, and apply repairs it', () => {
    on(APP1, 'echo tampered > /srv/e2e/message.txt && systemctl stop e2e-web');
    const plan = run('plan', '--limit', '!ghost');
    expect(plan.code).toBe(2);
    const app1 = plan.data.hosts.find((h) => h.host === 'app-1')!;
    const app2 = plan.data.hosts.find((h) => h.host === 'app-2')!;
    expect(app1.changes.map((c) => c.id).sort()).toEqual(['file:/srv/e2e/message.txt', 'service:e2e-web']);
    expect(app2.changes).toEqual([]);
    const diff = (app1.changes.find((c) => c.id === 'file:/srv/e2e/message.txt') as { diff?: string }).diff ?? '';
    expect(diff).toContain('-tampered');
    const apply = run('apply', '--limit', '!ghost');
    expect(apply.code).toBe(0);
    // the probe, then ONE exec: the file, the service and the verification probe with its health check
    const repaired = apply.data.hosts.find((h) => h.host === 'app-1')!;
    expect([repaired.result, repaired.execs]).toEqual(['changed', 2]);
    expect(on(APP1, 'cat /srv/e2e/message.txt').stdout).toBe(expectedMessage);
    expect(on(APP1, 'systemctl is-active e2e-web').stdout.trim()).toBe('active');
  });

  test('a saved plan is applied exactly, and refused once the host drifted', () => {
    const planFile = path.join(fs.mkdtempSync('/tmp/provision-plan-'), 'plan.json');
    on(APP2, 'sed -i "s/^E2E_MODE=lab$/E2E_MODE=changed/" /etc/environment');
    const saved = cli(['plan', inv, '--playbook', playbook, '--limit', '!ghost', '--out', planFile]);
    expect(saved.code).toBe(2);
    on(APP2, 'echo drifted-again >> /srv/e2e/message.txt');
    const refused = run('apply', '--limit', '!ghost', '--plan', planFile);
    expect(refused.code).toBe(1);
    expect(refused.data.hosts.find((h) => h.host === 'app-2')!.error).toMatch(/drifted since the plan was saved/);
    // Nothing was done to the refused host.
    expect(on(APP2, 'grep -c "^E2E_MODE=changed$" /etc/environment').stdout.trim()).toBe('1');
    const fresh = run('apply', '--limit', '!ghost');
    expect(fresh.code).toBe(0);
    expect(on(APP2, 'grep -c "^E2E_MODE=lab$" /etc/environment').stdout.trim()).toBe('1');
  });

  test('rolling: a host that fails its verification stops the next serial batch', () => {
    // app-1's service is stopped and cannot start again (python3 not executable): its apply steps
    // succeed (Type=simple starts without waiting for the exec), its verification cannot.
    on(APP1, 'systemctl stop e2e-web && chmod a-x "$(readlink -f /usr/bin/python3)"');
    on(APP2, 'echo drifted >> /srv/e2e/message.txt');
    try {
      const r = cliJson([
        'apply', inv, '--playbook', `${inv}/playbook-rolling.yaml`, '--limit', '!ghost', '--connect-timeout', '4',
      ]);
      expect(r.code).toBe(1);
      const byHost = Object.fromEntries(r.data.hosts.map((h) => [h.host, h]));
      expect(byHost['app-1']!.result).toBe('failed');
      expect(byHost['app-1']!.error).toMatch(/did not converge: service:e2e-web/);
      expect(byHost['app-2']!.result).toBe('not-run');
      // nothing was done to the second batch: its drift is still there
      expect(on(APP2, 'tail -n 1 /srv/e2e/message.txt').stdout.trim()).toBe('drifted');
    } finally {
      on(APP1, 'chmod a+x "$(readlink -f /usr/bin/python3)"');
    }
  });
});
