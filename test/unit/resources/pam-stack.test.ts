// pam-stack runs for real with this machine's sh on a temp dir standing in for /etc/pam.d (and the
// quarantine folder): which files are in effect (includes followed, unknown names not), which lines
// are foreign whatever their whitespace, the copy kept before the lines go, the file's mode kept,
// and the lockout guard's undo.
import { describe, test, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as r from '../../../src/resources/index.js';
import { QUARANTINE_DIR } from '../../../src/resources/quarantine.js';
import { runApply, runProbe } from './local-sh.js';

let dir: string;
let pamd: string;
const local = (script: string) => script.replaceAll(QUARANTINE_DIR, `${dir}/quarantine`).replaceAll(r.PAM_DIR, pamd);
const write = (name: string, text: string, mode = 0o644) => fs.writeFileSync(path.join(pamd, name), text, { mode });
const read = (name: string) => fs.readFileSync(path.join(pamd, name), 'utf8');
const probe = (res: r.Resource<r.PamStackState>) => res.parse(runProbe(local(res.probe())).stdout.replaceAll(pamd, r.PAM_DIR), 0);

const stack = (extra: Record<string, string[]> = {}) =>
  r.pamStack({
    service: 'sshd',
    accept: {
      sshd: ['@include common-auth', 'auth required pam_google_authenticator.so', '-session substack common-session', 'account include common-account'],
      'common-auth': ['auth requisite pam_deny.so'],
      'common-account': ['account required pam_permit.so'],
      'common-session': ['session required pam_unix.so'],
      ...extra,
    },
    acceptedAs: 'the test\'s',
    guard: true,
  });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-pam-'));
  pamd = path.join(dir, 'pam.d');
  fs.mkdirSync(pamd);
  write('common-auth', '# comment\nauth\trequisite\t\t\tpam_deny.so\n');
  write('common-account', 'account required pam_permit.so\n');
  write('common-session', 'session  required  pam_unix.so   # trailing comment\n');
  write('common-password', 'password sufficient pam_permit.so\n'); // not included: not in effect
  write('evil', 'auth sufficient pam_permit.so\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pamStack', () => {
  test('Debian\'s whitespace and comments are accepted; includes (@include, include, substack) are followed once; a file not included is not read', () => {
    write('sshd', '# PAM for sshd\n\n@include common-auth\n  auth required pam_google_authenticator.so\naccount include common-account\n-session substack common-session\n@include common-auth'); // no final newline
    const s = probe(stack());
    expect(s.files.map((f) => path.posix.basename(f.path))).toEqual(['sshd', 'common-auth', 'common-account', 'common-session']);
    expect(s.files[0]!.lines.map((l) => l.number)).toEqual([3, 4, 5, 6, 7]);
    expect(s.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(stack().diff(s)).toBeNull();
  });

  test('a foreign line in the service file and an include of a file the role does not know: planned, copied, removed in place, mode kept; the guard puts the file back', () => {
    write('sshd', 'auth sufficient pam_permit.so\n@include common-auth\n@include evil\nauth required pam_google_authenticator.so\n', 0o640);
    write('common-auth', 'auth requisite pam_deny.so\nauth   optional pam_exec.so /bin/true\n');
    const res = stack();
    const s = probe(res);
    // evil is not a known name: not read, but its include line is foreign
    expect(s.files.map((f) => path.posix.basename(f.path))).toEqual(['sshd', 'common-auth']);
    const c = res.diff(s)!;
    expect(c.summary).toBe('remove 3 foreign lines from the PAM stack of sshd: sshd, common-auth');
    expect(c.diff).toContain("! /etc/pam.d/sshd:1 auth sufficient pam_permit.so (not the test's)");
    expect(c.diff).toContain("! /etc/pam.d/sshd:3 @include evil (not the test's)");
    expect(c.diff).toContain("! /etc/pam.d/common-auth:2 auth   optional pam_exec.so /bin/true (not the test's)");
    const before = read('sshd');
    const applied = runApply(local(res.apply(s)));
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect(read('sshd')).toBe('@include common-auth\nauth required pam_google_authenticator.so\n');
    expect(read('common-auth')).toBe('auth requisite pam_deny.so\n');
    expect(fs.statSync(path.join(pamd, 'sshd')).mode & 0o777).toBe(0o640);
    const kept = /kept at (\S+\/sshd)\n/.exec(c.diff!)![1]!.replace(QUARANTINE_DIR, `${dir}/quarantine`).replace(r.PAM_DIR, pamd);
    expect(fs.readFileSync(kept, 'utf8')).toBe(before);
    expect(res.diff(probe(res))).toBeNull();
    // the lockout guard's undo: the files as they were before the removal
    expect(runApply(local(res.guardRestore!())).status).toBe(0);
    expect(read('sshd')).toBe(before);
  });

  test('an earlier copy is never overwritten (a second stack sharing the file, or a second run)', () => {
    write('sshd', '@include common-auth\nauth sufficient pam_permit.so\n');
    const res = stack();
    const s = probe(res);
    expect(runApply(local(res.apply(s))).status).toBe(0);
    // the same probe result applied again (another stack including the file): the copy stays the original
    expect(runApply(local(res.apply(s))).status).toBe(0);
    const kept = /kept at (\S+)/.exec(res.diff(s)!.diff!)![1]!.replace(QUARANTINE_DIR, `${dir}/quarantine`).replace(r.PAM_DIR, pamd);
    expect(fs.readFileSync(kept, 'utf8')).toBe('@include common-auth\nauth sufficient pam_permit.so\n');
  });

  test('bad declarations are refused', () => {
    expect(() => r.pamStack({ service: '../x', accept: { '../x': [] } })).toThrow(/file name/);
    expect(() => r.pamStack({ service: 'sshd', accept: { su: [] } })).toThrow(/service's own file/);
    expect(() => r.pamStack({ service: 'sshd', accept: { sshd: ['a\nb'] } })).toThrow(/single line/);
  });
});
