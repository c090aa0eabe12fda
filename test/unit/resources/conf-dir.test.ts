// conf-dir and the quarantine run for real with this machine's sh, on a temp dir: which files are
// foreign (what the program reads, minus provision's and the tolerated), what the diff shows
// (secret-looking values redacted), the move aside, the check that puts everything back, and the
// lockout guard's undo. The quarantine folder is redirected into the temp dir.
import { describe, test, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as r from '../../../src/resources/index.js';
import { QUARANTINE_DIR } from '../../../src/resources/quarantine.js';
import { runApply, runProbe } from './local-sh.js';

let dir: string;
let conf: string;
const local = (script: string) => script.replaceAll(QUARANTINE_DIR, `${dir}/quarantine`);
const write = (name: string, text: string) => fs.writeFileSync(path.join(conf, name), text);
const probe = (res: r.Resource<r.ConfDirState>) => res.parse(runProbe(res.probe(), dir).stdout, 0);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-confdir-'));
  conf = path.join(dir, 'conf.d');
  fs.mkdirSync(conf);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('confDir', () => {
  test('sshd style: only *.conf counts; own and tolerated files stay; a hostile name is reported verbatim and moved', () => {
    write('10-provision.conf', 'PermitRootLogin no\n');
    write('00-ok.conf', '# tolerated\n');
    write('notes.txt', 'PermitRootLogin yes\n'); // not read by sshd's Include *.conf
    const evil = `05-it's $(touch pwned).conf`;
    write(evil, '# comment\n\nPermitRootLogin yes\nPasswordAuthentication yes\n');
    const res = r.confDir({ path: conf, reads: 'conf', own: ['10-provision.conf'], tolerate: ['00-ok.conf'], label: 'sshd_config.d', guard: true, requires: (l) => (l.startsWith('PermitRootLogin') ? 'permitrootlogin no' : undefined) });
    const s = probe(res);
    expect(s.foreign.map((f) => f.path)).toEqual([path.join(conf, evil)]);
    const c = res.diff(s)!;
    expect(c.summary).toBe(`quarantine 1 file provision did not write in ${conf}: ${evil}`);
    expect(c.diff).toContain(`sshd_config.d file ${evil} sets PermitRootLogin yes; the role requires permitrootlogin no`);
    expect(c.diff).toContain(`sshd_config.d file ${evil} sets PasswordAuthentication yes\n`);
    const applied = runApply(local(res.apply(s)), dir);
    expect(applied.status).toBe(0);
    expect(fs.existsSync(path.join(dir, 'pwned'))).toBe(false);
    const moved = local(c.diff!.match(/→ apply moves it to (.*)$/m)![1]!);
    expect(fs.readFileSync(moved, 'utf8')).toContain('PasswordAuthentication yes');
    expect(res.diff(probe(res))).toBeNull();
    // the lockout guard's undo puts it back
    expect(runApply(local(res.guardRestore?.() ?? 'false'), dir).status).toBe(0);
    expect(fs.existsSync(path.join(conf, evil))).toBe(true);
  });

  test('sudoers style: names with a dot or ending in ~ are not read by sudo; values that look like secrets are redacted on the host', () => {
    write('README', '# comments\n');
    write('x.bak', 'nobody ALL=(ALL) NOPASSWD: ALL\n');
    write('old~', 'nobody ALL=(ALL) NOPASSWD: ALL\n');
    write('50-foreign', 'nobody ALL=(ALL) NOPASSWD: ALL\nDefaults env_keep += "TOKEN"\n');
    write('60-env', 'Environment=API_TOKEN=hunter2\nAPI_PASSWORD hunter3\n');
    const res = r.confDir({ path: conf, reads: 'sudoers', own: [], tolerate: ['README'] });
    const out = runProbe(res.probe(), dir).stdout;
    expect(out).not.toMatch(/hunter/);
    const s = res.parse(out, 0);
    expect(s.foreign.map((f) => path.basename(f.path))).toEqual(['50-foreign', '60-env']);
    expect(res.diff(s)!.diff).toContain('file 60-env sets Environment=<redacted>');
    expect(res.diff(s)!.diff).toContain('file 60-env sets API_PASSWORD <redacted>');
  });

  test('a check that fails once the files are gone puts every file back and fails the apply', () => {
    write('a.conf', 'x\n');
    write('b.conf', 'y\n');
    const res = r.confDir({ path: conf, reads: 'conf', own: [], check: 'false' });
    const s = probe(res);
    const applied = runApply(local(res.apply(s)), dir);
    expect(applied.status).not.toBe(0);
    expect(applied.stderr).toContain('put back');
    expect(fs.readdirSync(conf).sort()).toEqual(['a.conf', 'b.conf']);
  });

  test('bad options are refused with the resource named', () => {
    expect(() => r.confDir({ path: 'rel', reads: 'conf', own: [] })).toThrow(/absolute path/);
    expect(() => r.confDir({ path: '/etc/x', reads: 'ini' as r.ConfDirReads, own: [] })).toThrow(/reads must be/);
    expect(() => r.confDir({ path: '/etc/x', reads: 'conf', own: ['../a'] })).toThrow(/not a plain file name/);
    expect(() => r.sshdEffective({ user: 'ops', addr: '1.2.3.4; rm', expect: { a: 'b' } })).toThrow(/IP address/);
  });
});
