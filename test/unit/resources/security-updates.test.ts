// securityUpdates from probe output recorded on a real Debian 12 machine (the controller of the
// lab, its apt lists as they were, 90 packages pending from the security archive, no service on a
// replaced library): test/fixtures/probes/security-updates/controller-pending.out.
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { securityUpdates, ResourceError } from '../../../src/resources/index.js';

const recorded = fs.readFileSync(path.join(process.cwd(), 'test/fixtures/probes/security-updates/controller-pending.out'), 'utf8');
const res = (scheduledRestart: string[] = []) => securityUpdates({ label: 'Debian-Security', scheduledRestart });

describe('security-updates', () => {
  test('pending updates from the security archive are one change naming each package and version', () => {
    const s = res().parse(recorded, 0);
    expect(s.pending.length).toBe(90);
    expect(s.pending).toContainEqual({ name: 'libgcrypt20', from: '1.10.1-3', to: '1.10.1-3+deb12u1' });
    expect(s.stale).toEqual([]);
    const c = res().diff(s)!;
    expect(c.action).toBe('update');
    expect(c.summary).toMatch(/^90 security updates: libgcrypt20-dev 1\.10\.1-3 → 1\.10\.1-3\+deb12u1, libgcrypt20 1\.10\.1-3 → 1\.10\.1-3\+deb12u1, /);
    expect(c.summary).toContain('then restart the services left running on replaced libraries');
    expect(c.diff!.split('\n')).toContain('+ liblzma-dev 5.4.1-1 → 5.4.1-1+deb12u2');
  });

  test('only the security label counts: a point-release update (Debian:12.15/oldstable only) is not taken', () => {
    const s = res().parse('pkg Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])\n', 0);
    // the probe's grep already drops such lines; parse alone keeps what it is given
    expect(recorded).not.toContain('Inst bash ');
    expect(s.pending.length).toBe(1);
  });

  test('nothing pending and no service on a replaced library: converged', () => {
    expect(res().diff(res().parse('', 0))).toBeNull();
  });

  test('a service on a replaced library is restarted; a scheduled one is only listed', () => {
    const s = res(['drand.service']).parse('stale drand.service\nstale rsyslog.service\n', 0);
    const c = res(['drand.service']).diff(s)!;
    expect(c.summary).toBe('restart rsyslog.service (running on replaced libraries); never restarted here, listed "restart needed" for a scheduled window: drand.service');
    // only a scheduled restart left: nothing for apply to do
    expect(res(['drand.service']).diff(res(['drand.service']).parse('stale drand.service\n', 0))).toBeNull();
    const script = res(['drand.service']).apply(s);
    expect(script).toContain('unattended-upgrade || exit 1');
    expect(script).toContain(`case " drand.service " in *" $u "*) echo "restart needed: $u`);
    expect(script).toContain('systemctl restart -- "$u" || exit 1');
  });

  test('apt that cannot simulate is a change that says why', () => {
    const c = res().diff(res().parse('error E: The package lists or status file could not be parsed or opened.\n', 0))!;
    expect(c.summary).toBe('apt cannot simulate an upgrade: E: The package lists or status file could not be parsed or opened.');
  });

  test('bad declarations are refused', () => {
    expect(() => securityUpdates({ label: 'Debian Security' })).toThrow(ResourceError);
    expect(() => securityUpdates({ label: 'Debian-Security', scheduledRestart: ['drand; rm -rf /'] })).toThrow(/not a \.service unit name/);
  });
});
