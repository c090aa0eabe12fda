import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, test, expect } from '@jest/globals';
import * as r from '../../../src/resources/index.js';
import { HOSTILE, ROOT } from '../../fixtures/probes/cases.js';
import { changed, probed } from './fixture.js';
import { runProbe } from './local-sh.js';

describe('file: parse + diff of recorded probes', () => {
  test('missing file → create with the whole content as added lines', () => {
    const c = changed('file', 'missing');
    expect(c.action).toBe('create');
    expect(c.id).toBe(`file:${ROOT}/file/missing.conf`);
    expect(c.summary).toBe(`create ${ROOT}/file/missing.conf (root:root 0644)`);
    expect(c.diff).toContain('--- /dev/null');
    expect(c.diff).toContain(`+++ b${ROOT}/file/missing.conf`);
    expect(c.diff).toContain('+a');
  });

  test('missing parent directory is said in the plan', () => {
    const c = changed('file', 'no-parent');
    expect(c.summary).toContain(`directory ${ROOT}/file/nodir does not exist yet`);
  });

  test('same content, owner and mode → null, and the probe did not send the content', () => {
    const p = probed('file', 'converged');
    expect(p.change).toBeNull();
    expect(p.output).not.toContain('content');
  });

  test('changed content → unified diff with a/ b/ labels', () => {
    const c = changed('file', 'content-changed');
    expect(c.action).toBe('update');
    expect(c.summary).toBe(`update ${ROOT}/file/changed.conf: content changed`);
    expect(c.diff).toBe(
      [`--- a${ROOT}/file/changed.conf`, `+++ b${ROOT}/file/changed.conf`, '@@ -1,2 +1,2 @@', '-port = 1', '+port = 2', ' name = a'].join('\n'),
    );
  });

  test('owner and mode: only → field lines, no content diff', () => {
    const c = changed('file', 'owner-mode');
    expect(c.summary).toBe(`update ${ROOT}/file/owner.conf: owner: nobody:nogroup → root:root, mode: 0644 → 0600`);
    expect(c.diff).toBe('- owner: nobody:nogroup\n+ owner: root:root\n- mode: 0644\n+ mode: 0600');
  });

  test('owner/mode only → apply fixes them in place, without rewriting the content', () => {
    const { resource, state } = probed('file', 'owner-mode');
    const script = resource.apply(state);
    expect(script).toContain('chown -- root:root "$p"');
    expect(script).toContain('chmod -- 00600 "$p"');
    expect(script).not.toContain('mktemp');
  });

  test('sensitive: content never in probe output, summary or diff', () => {
    const c = changed('file', 'sensitive');
    expect(c.output).not.toContain('content');
    expect(c.resource.probe()).not.toContain('base64 -w0');
    expect(c.summary).toBe(`update ${ROOT}/file/secret.key: (sensitive) changed`);
    expect(c.diff ?? '').not.toContain('secret');
  });

  test('binary content is summarised, never printed', () => {
    const c = changed('file', 'binary');
    expect(c.diff).toBe('binary content: 6 bytes → 5 bytes');
  });

  test('a file over 512 KiB is not sent by the probe; the diff says so', () => {
    const c = changed('file', 'large');
    expect(c.output).not.toContain('content');
    expect(c.diff).toMatch(/^content: 614400 bytes \(sha256 565f868bfcd9…\) → 6 bytes .*too large to show$/);
  });

  test('a symlink is replaced by a file; a directory is refused', () => {
    expect(changed('file', 'symlink').summary).toBe(`replace the symlink ${ROOT}/file/link.conf with a file (root:root 0644)`);
    expect(changed('file', 'is-directory').summary).toContain('is a directory, not a file: apply will fail');
  });

  test('absent: remove an existing file, nothing when missing', () => {
    const c = changed('file', 'absent-exists');
    expect(c.action).toBe('delete');
    expect(c.summary).toBe(`remove ${ROOT}/file/old.conf`);
    expect(probed('file', 'absent-missing').change).toBeNull();
  });

  test('hostile content shows verbatim in the diff', () => {
    const c = changed('file', 'hostile');
    expect(c.diff).toContain(`+${HOSTILE}`);
    expect(c.diff).toContain('-before');
  });
});

describe('file: scripts', () => {
  test('apply is atomic: temp file in the same directory, owner/mode, validate, then mv', () => {
    const f = r.file({ path: '/etc/ssh/sshd_config', content: 'Port 22\n', mode: '0600', validate: 'sshd -t -f %s' });
    const script = f.apply({ kind: 'missing', parentMissing: false });
    const order = ['mktemp -- "$d/.provision.XXXXXX"', 'base64 -d', 'chown -- root:root "$t"', 'chmod -- 00600 "$t"', '( sshd -t -f "$t" )', 'mv -fT -- "$t" "$p"'];
    const positions = order.map((s) => script.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(script).toContain('rm -f -- "$t"');
    expect(script).toContain('d=/etc/ssh');
  });

  test('the probe embeds the desired hash and only prints content when it differs', () => {
    const probe = r.file({ path: '/etc/motd', content: 'hi\n' }).probe();
    expect(probe).toContain('98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4');
    expect(probe).toContain(`-le 524288 ]; then printf 'content '`);
  });

  test('guard: guardPaths is the file; no guard → no guardPaths', () => {
    expect(r.file({ path: '/etc/ssh/sshd_config', content: 'x', guard: true }).guardPaths?.()).toEqual(['/etc/ssh/sshd_config']);
    expect(r.file({ path: '/etc/motd', content: 'x' }).guardPaths).toBeUndefined();
  });

  test('common options are kept', () => {
    const f = r.file({ path: '/etc/motd', content: 'x', mode: '0600', notify: ['restart sshd'], sensitive: true, skipIf: () => 'container' });
    expect(f.notify).toEqual(['restart sshd']);
    expect(f.sensitive).toBe(true);
    expect(f.skipIf?.({} as never)).toBe('container');
  });
});

describe('file: input validation', () => {
  test.each([
    ['relative path', { path: 'etc/motd' }, /absolute path/],
    ['dot-dot', { path: '/etc/../root/x' }, /normalised path/],
    ['trailing slash', { path: '/etc/motd/' }, /normalised path/],
    ['newline in path', { path: '/etc/mo\ntd' }, /single line/],
    ['bad mode', { path: '/etc/motd', mode: '644x' }, /mode must be an octal/],
    ['numeric mode', { path: '/etc/motd', mode: 644 }, /mode must be an octal/],
    ['owner like an option', { path: '/etc/motd', owner: '-rf' }, /not a valid user or group name/],
    ['owner with a space', { path: '/etc/motd', group: 'a b' }, /not a valid user or group name/],
    ['validate without %s', { path: '/etc/motd', validate: 'sshd -t' }, /must contain %s/],
    ['content for absent', { path: '/etc/motd', state: 'absent', content: 'x' }, /absent/],
    ['bad state', { path: '/etc/motd', state: 'gone' }, /state must be/],
    ['bad notify', { path: '/etc/motd', notify: 'restart' }, /notify must be a list/],
  ])('%s is refused', (_name, opts, message) => {
    expect(() => r.file(opts as unknown as r.FileOptions)).toThrow(message);
    expect(() => r.file(opts as unknown as r.FileOptions)).toThrow(r.ResourceError);
  });

  test('mode 644 is read as 0644', () => {
    expect(r.file({ path: '/etc/motd', mode: '644' }).apply({ kind: 'missing' })).toContain('chmod -- 00644 "$t"');
  });
});

describe('file: a one-line file compared by the shell, without sha256sum', () => {
  // run with this machine's sh on real files: the hash the probe reports must be the file's own
  test('only the exact bytes count as the desired content', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-oneline-'));
    const want = 'net.ipv4.ip_forward = 1\n';
    const res = r.file({ path: `${dir}/f.conf`, content: want });
    const cases = { exact: want, 'no newline': 'net.ipv4.ip_forward = 1x', 'a NUL': 'net.ipv4.ip_forward =\0 1\n', 'an extra line': `${want}\n`, 'another value': 'net.ipv4.ip_forward = 0\n', 'split in two lines': 'net.ipv4.ip_forw\nrd = 1\n' };
    for (const [name, bytes] of Object.entries(cases)) {
      fs.writeFileSync(`${dir}/f.conf`, bytes);
      const state = res.parse(runProbe(res.probe()).stdout, 0);
      expect({ name, sha256: state.sha256 }).toEqual({ name, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    // and the shell did the comparison: no sha256sum when the line is right
    expect(res.probe()).toMatch(/IFS= read -r l <"\$p" && \[ "\$l" = 'net\.ipv4\.ip_forward = 1' \]; then h=/);
  });
});
