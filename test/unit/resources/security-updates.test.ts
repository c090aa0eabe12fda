// securityUpdates from its probe's output recorded on a Debian 12 lab host
// (test/fixtures/probes/security-updates/, a fresh test/fixtures/e2e/hardening host): lab-stale =
// lists refreshed by hand with apt-get update, no refresh stamp (20 pending); lab-fresh = the same
// after apt's daily timer stamp (what apt.systemd.daily touches after its refresh); lab-upgraded =
// after unattended-upgrade installed them (the services whose main process maps a replaced library).
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { securityUpdates, ResourceError } from '../../../src/resources/index.js';

const rec = (name: string) => fs.readFileSync(path.join(process.cwd(), 'test/fixtures/probes/security-updates', `${name}.out`), 'utf8');
const res = (scheduledRestart: string[] = []) => securityUpdates({ label: 'Debian-Security', scheduledRestart });

describe('security-updates', () => {
  test('fresh lists: one change naming each package and version and when the lists were refreshed', () => {
    const s = res().parse(rec('lab-fresh'), 0);
    expect(s.lists).toEqual({ refreshed: 1796177222, stale: false });
    expect(s.pending.length).toBe(20);
    expect(s.pending).toContainEqual({ name: 'libssl3', from: '3.0.20-1~deb12u2', to: '3.0.22-1~deb12u2' });
    expect(s.onReplaced).toEqual([]);
    const c = res().diff(s)!;
    expect(c.action).toBe('update');
    expect(c.summary).toMatch(/^20 security updates: apt 2\.6\.1 → 2\.6\.2, ca-certificates /);
    expect(c.summary).toContain('(unattended-upgrade; package lists refreshed 2026-12-02 02:07 UTC)');
    expect(c.summary).toContain('then restart the services left running on replaced libraries');
    expect(c.diff!.split('\n')).toContain('+ zlib1g 1:1.2.13.dfsg-1 → 1:1.2.13.dfsg-1+deb12u1');
    // apply installs from the lists the plan read: a refresh since then stops it
    const script = res().apply(s);
    expect(script).toContain(`[ "\${lists_at:-none}" = 1796177222 ] || { echo "the package lists were refreshed since the plan read them`);
    expect(script).not.toContain('apt-get -q -o DPkg::Lock::Timeout=120 update');
    expect(script).toContain('unattended-upgrade || exit 1');
  });

  test('stale lists (no refresh known): the plan says apply refreshes them first, then installs what they list', () => {
    const s = res().parse(rec('lab-stale'), 0);
    expect(s.lists).toEqual({ refreshed: null, stale: true });
    const c = res().diff(s)!;
    expect(c.summary).toMatch(/^refresh the package lists \(no refresh known; stale after 48 h or a source change\), then install the security updates they list \(unattended-upgrade\); pending in the old lists: 20/);
    const script = res().apply(s);
    expect(script).toContain('apt-get -q -o DPkg::Lock::Timeout=120 update');
    expect(script).toContain('unattended-upgrade || exit 1');
  });

  test('after unattended-upgrade: services on replaced libraries restarted, D-Bus and logind only listed', () => {
    const s = res(['ssh.service']).parse(rec('lab-upgraded'), 0);
    expect(s.pending).toEqual([]);
    expect(s.onReplaced).toEqual(['dbus.service', 'ssh.service', 'systemd-journald.service', 'systemd-logind.service', 'systemd-networkd.service', 'unattended-upgrades.service']);
    const c = res(['ssh.service']).diff(s)!;
    expect(c.summary).toBe(
      'restart systemd-journald.service, systemd-networkd.service, unattended-upgrades.service (running on replaced libraries); ' +
        'never restarted here, listed "restart needed" for a scheduled window: ssh.service, dbus.service, systemd-logind.service',
    );
    const script = res(['ssh.service']).apply(s);
    // nothing to install: no refresh, no unattended-upgrade
    expect(script).not.toContain('unattended-upgrade');
    expect(script).toContain(`case " ssh.service dbus.service systemd-logind.service " in *" $u "*) echo "restart needed: $u`);
    expect(script).toContain('systemctl restart -- "$u" || exit 1');
  });

  test('fresh lists, nothing pending, only never-restarted services on replaced libraries: converged', () => {
    expect(res().diff(res().parse('lists 1796177222 fresh\nunit dbus.service\n', 0))).toBeNull();
    expect(res().diff(res().parse('lists 1796177222 fresh\n', 0))).toBeNull();
  });

  test('bad declarations are refused', () => {
    expect(() => securityUpdates({ label: 'Debian Security' })).toThrow(ResourceError);
    expect(() => securityUpdates({ label: 'Debian-Security', scheduledRestart: ['drand; rm -rf /'] })).toThrow(/not a \.service unit name/);
  });
});
