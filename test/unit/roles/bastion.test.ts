import { describe, test, expect } from '@jest/globals';
import { build, find, roles, withDefaults } from './helpers.js';
import type { FileState, UserState, LineState } from '../../../src/resources/index.js';
import { SUPPORTED_RELEASES } from '../../../src/facts/release.js';
import { debianPam, TTY_AUDIT_LINE } from '../../../roles/base/pam.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5ZN3wRyy5yN6fWYSkE2p8fXU+AhBJuyjUdblb+XqTJ alice@lab';
const withOps = (bastion: Record<string, unknown>) => ({ bastion: { allow_from: ['192.0.2.0/24'], ...bastion } });

describe('bastion: operators', () => {
  test('each operator: an account in group operators only (no sudo/adm), its keys 0600', () => {
    const b = build({ host: 'bastion-1' });
    const user = find(b, 'user:alice');
    const created = user.diff({ exists: false } as UserState)!;
    expect(created.summary).toBe('create user alice (home /home/alice, shell /bin/bash, groups operators)');
    // an existing alice in sudo and adm is taken out of them
    const drift = user.diff({ exists: true, home: '/home/alice', shell: '/bin/bash', primaryGroup: 'alice', groups: ['adm', 'operators', 'sudo'], homeExists: true } as UserState)!;
    expect(drift.diff).toContain('adm,operators,sudo');
    expect(user.apply({ exists: true, home: '/home/alice', shell: '/bin/bash', primaryGroup: 'alice', groups: ['adm', 'operators', 'sudo'], homeExists: true } as UserState)).toContain(
      'usermod --groups operators',
    );

    const keys = find(b, 'file:/home/alice/.ssh/authorized_keys');
    const change = keys.diff({ kind: 'missing' } as FileState)!;
    expect(change.summary).toContain('(alice:alice 0600)');
    expect(change.diff).toContain(`+${KEY}`);
    const dir = find(b, 'directory:/home/alice/.ssh');
    expect(dir.diff({ kind: 'missing' } as never)!.summary).toContain('alice:alice 0700');
    expect(find(b, 'group:operators')).toBeDefined();
  });

  test('an operator with state absent loses the account', () => {
    const b = build({ host: 'bastion-1', vars: withOps({ operators: [{ name: 'bob', keys: [KEY], state: 'absent' }] }) });
    expect(find(b, 'user:bob').diff({ exists: true, uid: 1001 } as UserState)!.action).toBe('delete');
    expect(b.all.some((r) => r.id.startsWith('file:/home/bob'))).toBe(false);
  });

  test("the controller's login user can never be an operator (it must stay publickey-only)", () => {
    expect(() => build({ host: 'bastion-1', loginUser: 'carol', vars: withOps({ operators: [{ name: 'carol', keys: [KEY] }] }) })).toThrow(
      /controller's login user/,
    );
  });

  test('system account names and bad keys are refused', () => {
    expect(() => build({ host: 'bastion-1', vars: withOps({ operators: [{ name: 'sshd', keys: [KEY] }] }) })).toThrow(/system account/);
    expect(() => withDefaults(roles.bastion!, { operators: [{ name: 'dave', keys: ['from="*" ssh-ed25519 AAAA'] }] })).toThrow(/pattern/);
    expect(() => withDefaults(roles.bastion!, { operators: [{ name: 'dave', keys: [`${KEY}\nssh-ed25519 AAAAinjected`] }] })).toThrow(/pattern/);
    expect(() => withDefaults(roles.bastion!, { operators: [{ name: 'Dave;rm', keys: [KEY] }] })).toThrow(/pattern/);
  });
});

describe('bastion: TOTP through PAM', () => {
  const pamLine = (b: ReturnType<typeof build>, text: string) => b.all.find((r) => r.id.startsWith('line:/etc/pam.d/sshd') && r.apply({ kind: 'file', present: false } as LineState).includes(text));

  test('default: TOTP required (no nullok), password stack disabled, all guarded', () => {
    const b = build({ host: 'bastion-1' });
    expect(b.resources.bastion!.some((r) => r.id === 'apt:libpam-google-authenticator')).toBe(true);
    const totp = pamLine(b, "L='auth required pam_google_authenticator.so'")!;
    expect(totp).toBeDefined();
    expect(totp.guard).toBe(true);
    expect(pamLine(b, 'nullok')).toBeUndefined();
    const commonAuth = pamLine(b, "L='#@include common-auth")!;
    expect(commonAuth.guard).toBe(true);
    // pam_permit is kept out of the stack
    const permit = find(b, 'line:/etc/pam.d/sshd:auth required pam_permit.so');
    expect(permit.diff({ kind: 'file', present: true, count: 1, samples: ['auth required pam_permit.so'] } as LineState)!.summary).toMatch(/remove 1 line/);
    // su only for group root
    expect(b.all.find((r) => r.id.startsWith('line:/etc/pam.d/su:'))!.guard).toBe(true);
  });

  test('totp_nullok opens an enrolment window: nullok plus pam_permit after it', () => {
    const b = build({ host: 'bastion-1', vars: withOps({ operators: [{ name: 'alice', keys: [KEY] }], totp_nullok: true }) });
    expect(pamLine(b, "L='auth required pam_google_authenticator.so nullok'")).toBeDefined();
    const permit = find(b, 'line:/etc/pam.d/sshd:auth required pam_permit.so');
    expect(permit.diff({ kind: 'file', present: false } as LineState)!.summary).toMatch(/append/);
  });

  test('the sshd drop-in is guarded and validated; health checks the effective config', () => {
    const b = build({ host: 'bastion-1' });
    const f = find(b, 'file:/etc/ssh/sshd_config.d/20-bastion.conf');
    expect(f.guard).toBe(true);
    expect(f.notify).toEqual(['reload ssh']);
    expect(f.apply({ kind: 'missing' } as FileState)).toContain('/usr/sbin/sshd -t -f "$w"');
    const health = b.health.bastion!.map((h) => h.script).join('\n');
    expect(health).toContain("sshd -T -C user=alice,host=health-check,addr=192.0.2.0 | grep -qx 'authenticationmethods publickey,keyboard-interactive'");
  });
});

describe('bastion: reachability and placement', () => {
  test('SSH opening from the operator allowlist only', () => {
    const b = build({ host: 'bastion-1' });
    expect(b.openings.filter((o) => o.port === 22)).toEqual([
      { port: 22, proto: 'tcp', from: ['10.213.7.1'], comment: 'ssh from the controller' },
      { port: 22, proto: 'tcp', from: ['192.0.2.0/24'], comment: 'ssh from operators (bastion.allow_from)' },
    ]);
  });

  test('allow_from refuses the whole internet', () => {
    expect(() => build({ host: 'bastion-1', vars: withOps({ allow_from: ['0.0.0.0/0'] }) })).toThrow(/whole internet/);
  });

  test('a bastion carries no node role', () => {
    expect(roles.bastion!.placement?.notWith).toEqual(expect.arrayContaining(['drand-node', 'drand-http-relay']));
  });
});

describe('bastion: PAM stacks in effect', () => {
  const state = (file: string, ...raw: string[]) => ({ files: [{ path: `/etc/pam.d/${file}`, sha256: 'ab'.repeat(32), lines: raw.map((r, i) => ({ number: i + 1, raw: r })) }] });

  test.each(SUPPORTED_RELEASES)('sshd and su stacks are guarded; Debian\'s lines of %s, the roles\' and the site\'s are accepted, anything else is not', (release) => {
    const b = build({ host: 'bastion-1', release, vars: withOps({ operators: [{ name: 'alice', keys: [KEY] }], pam_accept: ['auth sufficient pam_sss.so use_first_pass'] }) });
    const sshd = find(b, 'pam-stack:sshd');
    const su = find(b, 'pam-stack:su');
    expect([sshd.guard, su.guard]).toEqual([true, true]);
    const debian = debianPam(release);
    // whitespace and comments as Debian writes them do not matter
    expect(sshd.diff(state('sshd', ...debian.sshd!.map((l) => l.replace(/ /g, '\t')), 'auth required pam_google_authenticator.so', `${TTY_AUDIT_LINE} # audit`, 'auth sufficient pam_sss.so use_first_pass'))).toBeNull();
    expect(su.diff(state('su', ...debian.su!, 'auth required pam_wheel.so'))).toBeNull();
    expect(sshd.diff(state('common-session', ...debian['common-session']!))).toBeNull();
    const foreign = sshd.diff(state('sshd', 'auth sufficient pam_permit.so', ...debian.sshd!))!;
    expect(foreign.summary).toBe('remove 1 foreign line from the PAM stack of sshd: sshd');
    expect(foreign.diff).toContain(`! /etc/pam.d/sshd:1 auth sufficient pam_permit.so (not Debian ${release.slice(-2)}'s, a role's or in bastion.pam_accept)`);
    // a line is accepted only in its own file: common-auth's pam_permit is foreign in su
    expect(su.diff(state('su', 'auth required pam_permit.so'))).not.toBeNull();
    // without nullok the enrolment window's pam_permit is not the role's either
    expect(sshd.diff(state('sshd', 'auth required pam_permit.so'))).not.toBeNull();
  });

  test("base's session audit line is the one the stack accepts", () => {
    const base = build({ host: 'bastion-1' }).all.find((r) => r.id.includes('pam_tty_audit'))!;
    expect(base.probe()).toContain(TTY_AUDIT_LINE.replace('*', ''));
    expect(base.apply({ kind: 'file', present: false } as LineState)).toContain(`'${TTY_AUDIT_LINE}'`);
  });
});
