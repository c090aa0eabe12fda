// The daemon helper (src/roles/daemon.ts): what a daemon is made of, the sandbox it insists on, and
// a binary installed from a .tar.gz release — the generated script run with this machine's sh, tar
// and sha256sum, `curl` replaced by a stand-in that hands over a local archive (no network here).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { daemon, pinnedBinary } from '../../../src/roles/daemon.js';
import { runApply, runProbe } from '../resources/local-sh.js';
import type { CommandState } from '../../../src/resources/index.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const UNIT = '[Service]\nUser=svc\nNoNewPrivileges=yes\nProtectSystem=strict\nExecStart=/usr/local/bin/svc\n';
const spec = (unit = UNIT) => ({
  service: 'svc', user: 'svc', home: '/nonexistent', dirs: ['/var/lib/svc'], packages: ['curl'],
  binary: { url: 'https://example.org/svc', sha256: 'a'.repeat(64) }, target: { varPath: 'svc.binary', target: '/usr/local/bin/svc', label: 'svc', notify: ['restart svc'] },
  repoPath: (p: string) => p, unit, restartHandler: 'restart svc',
});

describe('daemon()', () => {
  test('packages, its own user and group, its directories, the pinned binary, the unit, the service, the restart handler — in that order', () => {
    const d = daemon(spec());
    expect(d.resources.map((r) => r.id)).toEqual([
      'apt:curl', 'group:svc', 'user:svc', 'directory:/var/lib/svc', 'command:install svc aaaaaaaaaaaa from https://example.org/svc', 'systemd-unit:svc.service', 'service:svc',
    ]);
    expect(d.resources.find((r) => r.id === 'systemd-unit:svc.service')!.notify).toEqual(['restart svc']);
    expect(Object.keys(d.handlers)).toEqual(['restart svc']);
    expect(d.handlers['restart svc']!.restarts).toBe('svc');
  });
  test('a unit that does not run as its user in a sandbox is refused', () => {
    expect(() => daemon(spec(UNIT.replace('User=svc', 'User=root')))).toThrow('the unit of svc must set User=svc');
    expect(() => daemon(spec(UNIT.replace('ProtectSystem=strict\n', '')))).toThrow('must set ProtectSystem=strict');
  });
});

describe('a binary from a .tar.gz release', () => {
  let dir: string;
  let archive: Buffer;
  const member = Buffer.from('#!/bin/sh\necho svc 1.0\n');
  const target = () => path.join(dir, 'bin', 'svc');
  const resource = (over: Partial<{ sha256: string; member: string; member_sha256: string }> = {}) =>
    pinnedBinary({ url: 'https://example.org/svc-1.0.tar.gz', sha256: sha(archive), member: 'svc-1.0/svc', member_sha256: sha(member), ...over }, (p) => p, { varPath: 'svc.binary', target: target(), label: 'svc', notify: [] });
  // `curl … -o FILE URL` stand-in: copies the local archive to FILE
  const shell = () => ['env', `PATH=${path.join(dir, 'fake')}:${process.env.PATH}`, 'sh', '-s'];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-daemon-'));
    fs.mkdirSync(path.join(dir, 'src', 'svc-1.0'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'fake'));
    fs.writeFileSync(path.join(dir, 'src', 'svc-1.0', 'svc'), member);
    fs.writeFileSync(path.join(dir, 'src', 'svc-1.0', 'README'), 'other member\n');
    expect(spawnSync('tar', ['-czf', path.join(dir, 'svc.tar.gz'), '-C', path.join(dir, 'src'), 'svc-1.0']).status).toBe(0);
    archive = fs.readFileSync(path.join(dir, 'svc.tar.gz'));
    fs.writeFileSync(path.join(dir, 'fake', 'curl'), `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do [ "$1" = -o ] && { cp ${JSON.stringify(path.join(dir, 'svc.tar.gz'))} "$2"; exit 0; }; shift; done\nexit 22\n`, { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a wrong archive pin, a missing member, a wrong member pin: nothing installed, the reason said', () => {
    for (const [over, why] of [
      [{ sha256: 'b'.repeat(64) }, 'does not match the pin svc.binary.sha256'],
      [{ member: 'svc-1.0/nope' }, 'svc-1.0/nope is not in https://example.org/svc-1.0.tar.gz'],
      [{ member_sha256: 'c'.repeat(64) }, 'does not match the pin svc.binary.member_sha256'],
    ] as const) {
      const r = runApply(resource(over).apply({ done: false } as CommandState), dir, shell());
      expect([r.status, r.stderr]).toEqual([1, expect.stringContaining(why)]);
      expect(fs.existsSync(target())).toBe(false);
      expect(fs.readdirSync(path.join(dir, 'bin'))).toEqual([]);
    }
  });

  test('the pinned member is installed 0755, and the probe then finds it done', () => {
    const res = resource();
    expect(res.id).toBe(`command:install svc ${sha(member).slice(0, 12)} (svc-1.0/svc of ${sha(archive).slice(0, 12)}) from https://example.org/svc-1.0.tar.gz`);
    expect(res.parse(runProbe(res.probe()).stdout, 0)).toEqual({ done: false });
    const r = runApply(res.apply({ done: false } as CommandState), dir, shell());
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(target())).toEqual(member);
    expect((fs.statSync(target()).mode & 0o777).toString(8)).toBe('755');
    expect(fs.readdirSync(path.join(dir, 'bin'))).toEqual(['svc']);
    expect(res.parse(runProbe(res.probe()).stdout, 0)).toEqual({ done: true });
  });

  test('member and member_sha256 go together', () => {
    expect(() => resource({ member_sha256: undefined as never })).toThrow('member (the binary inside a .tar.gz at url) and member_sha256 (its own pin) go together');
  });
});
