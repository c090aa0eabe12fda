import { describe, test, expect } from '@jest/globals';
import * as r from '../../../src/resources/index.js';
import type { LineState } from '../../../src/resources/index.js';
import { HOSTILE, ROOT } from '../../fixtures/probes/cases.js';
import { changed, probed } from './fixture.js';

describe('directory: parse + diff of recorded probes', () => {
  test('missing → create with owner and mode', () => {
    const c = changed('directory', 'missing');
    expect(c.action).toBe('create');
    expect(c.summary).toBe(`create directory ${ROOT}/directory/new (root:root 0755)`);
  });

  test('right owner and mode → null', () => {
    expect(probed('directory', 'converged').change).toBeNull();
  });

  test('wrong owner and a setgid mode → both fields; apply clears setgid with a 5-digit mode', () => {
    const c = changed('directory', 'owner-mode');
    expect(c.summary).toBe(`update directory ${ROOT}/directory/data: owner: root:root → nobody:nogroup, mode: 2755 → 0750`);
    const script = c.resource.apply(c.state);
    expect(script).toContain('chown -- nobody:nogroup "$p"');
    expect(script).toContain('chmod -- 00750 "$p"');
    expect(script).not.toContain('mkdir');
  });

  test('a file in the way → a change that says apply will fail', () => {
    expect(changed('directory', 'not-a-directory').summary).toContain('is not a directory: apply will fail');
  });

  test('a symlink to a directory counts as the directory', () => {
    const p = probed('directory', 'symlink-to-dir');
    expect(p.state).toMatchObject({ kind: 'dir', mode: '0755' });
    expect(p.change).toBeNull();
  });

  test('absent → remove with its content', () => {
    const c = changed('directory', 'absent-exists');
    expect(c.action).toBe('delete');
    expect(c.summary).toBe(`remove directory ${ROOT}/directory/old and its content`);
    expect(c.resource.apply(c.state)).toContain('rm -rf -- "$p"');
  });

  test('guard is refused: a directory has no file to restore', () => {
    expect(() => r.directory({ path: '/srv/x', guard: true })).toThrow(/guard is not supported/);
  });
});

describe('line: parse + diff of recorded probes', () => {
  test('line missing → append, shown as an added line', () => {
    const c = changed('line', 'append');
    expect(c.summary).toBe(`append a line to ${ROOT}/line/append.conf`);
    expect(c.diff).toBe('+ b = 2');
  });

  test('line present → null', () => {
    expect(probed('line', 'present').change).toBeNull();
  });

  test('match: the FIRST matching line is replaced', () => {
    const c = changed('line', 'replace');
    expect(c.state).toEqual({ kind: 'file', present: false, first: { number: 2, text: '#PermitRootLogin prohibit-password' } });
    expect(c.summary).toBe(`replace line 2 of ${ROOT}/line/sshd.conf`);
    expect(c.diff).toBe('- #PermitRootLogin prohibit-password\n+ PermitRootLogin no');
  });

  test('match: first matching line already right → null', () => {
    expect(probed('line', 'match-converged').change).toBeNull();
  });

  test('absent with match: every matching line is removed', () => {
    const c = changed('line', 'absent-match');
    expect(c.summary).toBe(`remove 2 lines from ${ROOT}/line/remove.conf`);
    expect(c.diff).toBe('- debug = 1\n- debug_level = 3');
  });

  test('absent, nothing matches → null; missing file → null', () => {
    expect(probed('line', 'absent-none').change).toBeNull();
    const gone = r.line({ path: '/etc/x', line: 'a', state: 'absent' });
    expect(gone.diff(gone.parse('kind missing\n', 0))).toBeNull();
  });

  test('file missing → planned, apply will check again (a package may create it first)', () => {
    expect(changed('line', 'missing-file').summary).toBe(`append a line to ${ROOT}/line/nofile.conf, which does not exist yet`);
  });

  test('hostile line: shown verbatim, and only ever passed in a quoted variable', () => {
    const c = changed('line', 'hostile');
    expect(c.diff).toBe(`+ ${HOSTILE}`);
    const script = c.resource.apply(c.state);
    expect(script).toContain(`L='-e it'\\''s "$(touch ${ROOT}/pwned)"`);
    expect(script.split(HOSTILE).length).toBe(1); // never spliced unquoted
  });

  test('sensitive line: hidden in diff and id', () => {
    const l = r.line({ path: '/etc/app.conf', line: 'token = s3cret', sensitive: true });
    const change = l.diff({ kind: 'file', present: false } satisfies LineState);
    expect(l.id).not.toContain('s3cret');
    expect(JSON.stringify(change)).not.toContain('s3cret');
  });

  test('a regex grep rejects is reported by the plan and stops the apply', () => {
    const l = r.line({ path: '/etc/a', line: 'x', match: 'x(' });
    expect(l.diff(l.parse('kind file\ngrepfailed\n', 0))?.summary).toBe('grep -E failed on /etc/a (a regex it rejects?): apply will fail');
  });

  test('ids: path and line, or path and match', () => {
    expect(r.line({ path: '/etc/a', line: 'x = 1' }).id).toBe('line:/etc/a:x = 1');
    expect(r.line({ path: '/etc/a', line: 'x = 1', match: '^x ' }).id).toBe('line:/etc/a:^x ');
  });

  test('a line that does not match its own regex is refused (it would never converge)', () => {
    expect(() => r.line({ path: '/etc/a', line: 'Port 22', match: '^#?PermitRootLogin' })).toThrow(/never converge/);
    expect(() => r.line({ path: '/etc/a', line: 'a\nb' })).toThrow(/single line/);
  });
});
