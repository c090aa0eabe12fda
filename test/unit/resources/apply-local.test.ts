// Apply scripts of file, directory and line run for real with this machine's sh, under a temp dir:
// probe → diff → apply → probe again must give null, hostile values must land verbatim and run nothing.
import { describe, test, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as r from '../../../src/resources/index.js';
import type { Resource } from '../../../src/resources/index.js';
import { runApply, runProbe, runSh } from './local-sh.js';

const me = os.userInfo().username;
const myGroup = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
const EVIL = `-n it's "$(touch pwned)" \`touch pwned\` $HOME \\n %s ' ; x`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-apply-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const probe = <S>(res: Resource<S>): S => {
  const out = runProbe(res.probe(), dir);
  return res.parse(out.stdout, out.status);
};

/** plan, apply, re-probe: returns the change that was applied */
function converge<S>(res: Resource<S>) {
  const before = probe(res);
  const change = res.diff(before);
  expect(change).not.toBeNull();
  const run = runApply(res.apply(before), dir);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(res.diff(probe(res))).toBeNull();
  return change;
}

const noPwned = (): void => {
  expect(fs.existsSync(path.join(dir, 'pwned'))).toBe(false);
  expect(fs.existsSync(path.join(process.cwd(), 'pwned'))).toBe(false);
};
const modeOf = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
const leftovers = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.provision.'));

describe('file apply', () => {
  test('hostile path and content: written verbatim, mode set, nothing run', () => {
    const p = path.join(dir, EVIL);
    const f = r.file({ path: p, content: `${EVIL}\n`, owner: me, group: myGroup, mode: '0640' });
    expect(converge(f)?.action).toBe('create');
    expect(fs.readFileSync(p, 'utf8')).toBe(`${EVIL}\n`);
    expect(modeOf(p)).toBe('0640');
    noPwned();
  });

  test('binary content round-trips byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const p = path.join(dir, 'blob');
    fs.writeFileSync(p, 'old');
    converge(r.file({ path: p, content: bytes, owner: me, group: myGroup }));
    expect(fs.readFileSync(p).equals(bytes)).toBe(true);
  });

  test('only the mode: differs → fixed in place (same inode)', () => {
    const p = path.join(dir, 'key');
    fs.writeFileSync(p, 'k\n', { mode: 0o644 });
    const inode = fs.statSync(p).ino;
    converge(r.file({ path: p, content: 'k\n', owner: me, group: myGroup, mode: '0600' }));
    expect(modeOf(p)).toBe('0600');
    expect(fs.statSync(p).ino).toBe(inode);
  });

  test('a failing validate leaves the target untouched and no temp file behind', () => {
    const p = path.join(dir, 'sshd_config');
    fs.writeFileSync(p, 'good\n');
    const f = r.file({ path: p, content: 'bad\n', owner: me, group: myGroup, validate: 'grep -q good %s' });
    const run = runApply(f.apply(probe(f)), dir);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`provision: could not write ${p}`);
    expect(fs.readFileSync(p, 'utf8')).toBe('good\n');
    expect(leftovers()).toEqual([]);
  });

  test('a passing validate sees the new content in the temp file', () => {
    const p = path.join(dir, 'app.conf');
    converge(r.file({ path: p, content: 'good\n', owner: me, group: myGroup, validate: 'grep -q good %s' }));
    expect(fs.readFileSync(p, 'utf8')).toBe('good\n');
  });

  test('missing parent directory → fails clearly, creates nothing', () => {
    const p = path.join(dir, 'nodir', 'x.conf');
    const f = r.file({ path: p, content: 'x' });
    const run = runApply(f.apply(probe(f)), dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`provision: cannot write ${p}: directory ${path.dirname(p)} does not exist\n`);
    expect(fs.existsSync(path.dirname(p))).toBe(false);
  });

  test('a symlink is replaced by a file; its target is untouched', () => {
    const p = path.join(dir, 'link.conf');
    fs.writeFileSync(path.join(dir, 'target'), 'target\n');
    fs.symlinkSync(path.join(dir, 'target'), p);
    converge(r.file({ path: p, content: 'mine\n', owner: me, group: myGroup }));
    expect(fs.lstatSync(p).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'target'), 'utf8')).toBe('target\n');
  });

  test('absent removes the file', () => {
    const p = path.join(dir, 'old');
    fs.writeFileSync(p, 'x');
    expect(converge(r.file({ path: p, state: 'absent' }))?.action).toBe('delete');
    expect(fs.existsSync(p)).toBe(false);
  });
});

describe('directory apply', () => {
  test('create with mode, then clear a setgid bit, then remove', () => {
    const p = path.join(dir, `data ${EVIL}`);
    converge(r.directory({ path: p, owner: me, group: myGroup, mode: '0750' }));
    expect(modeOf(p)).toBe('0750');
    fs.chmodSync(p, 0o2750);
    converge(r.directory({ path: p, owner: me, group: myGroup, mode: '0750' }));
    expect(modeOf(p)).toBe('0750');
    fs.writeFileSync(path.join(p, 'f'), 'x');
    converge(r.directory({ path: p, state: 'absent' }));
    expect(fs.existsSync(p)).toBe(false);
    noPwned();
  });

  test('missing parent → fails clearly', () => {
    const d = r.directory({ path: path.join(dir, 'a', 'b') });
    const run = runApply(d.apply(probe(d)), dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`directory ${path.join(dir, 'a')} does not exist`);
  });
});

describe('line apply', () => {
  test('append to a file without a final newline, keeping owner and mode', () => {
    const p = path.join(dir, 'app.conf');
    fs.writeFileSync(p, 'a = 1', { mode: 0o640 });
    fs.chmodSync(p, 0o640);
    converge(r.line({ path: p, line: 'b = 2' }));
    expect(fs.readFileSync(p, 'utf8')).toBe('a = 1\nb = 2\n');
    expect(modeOf(p)).toBe('0640');
    expect(leftovers()).toEqual([]);
  });

  test('replace the FIRST matching line only', () => {
    const p = path.join(dir, 'sshd_config');
    fs.writeFileSync(p, 'Port 22\n#PermitRootLogin prohibit-password\nPermitRootLogin yes\n');
    converge(r.line({ path: p, line: 'PermitRootLogin no', match: '^#?PermitRootLogin[[:space:]]' }));
    expect(fs.readFileSync(p, 'utf8')).toBe('Port 22\nPermitRootLogin no\nPermitRootLogin yes\n');
  });

  test('absent with a match removes every matching line', () => {
    const p = path.join(dir, 'x.conf');
    fs.writeFileSync(p, 'debug = 1\nkeep\ndebug_level = 3\n');
    converge(r.line({ path: p, line: 'debug = 0', match: '^debug', state: 'absent' }));
    expect(fs.readFileSync(p, 'utf8')).toBe('keep\n');
  });

  test('absent removing the only line leaves an empty file', () => {
    const p = path.join(dir, 'one.conf');
    fs.writeFileSync(p, 'x\n');
    converge(r.line({ path: p, line: 'x', state: 'absent' }));
    expect(fs.readFileSync(p, 'utf8')).toBe('');
  });

  test('hostile line and hostile regex: literal for grep -F, a regex only for grep -E, nothing run', () => {
    const p = path.join(dir, 'evil.conf');
    fs.writeFileSync(p, 'a\n');
    converge(r.line({ path: p, line: EVIL }));
    const regex = `^-n it's "\\$\\(touch`;
    converge(r.line({ path: p, line: `${EVIL} replaced`, match: regex }));
    expect(fs.readFileSync(p, 'utf8')).toBe(`a\n${EVIL} replaced\n`);
    noPwned();
  });

  test('a symlinked file is edited through the link; the link stays', () => {
    const real = path.join(dir, 'real.conf');
    const link = path.join(dir, 'link.conf');
    fs.writeFileSync(real, 'a\n');
    fs.symlinkSync(real, link);
    converge(r.line({ path: link, line: 'b' }));
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toBe('a\nb\n');
  });

  test('a regex grep -E rejects: the probe says so, the apply fails and changes nothing', () => {
    const p = path.join(dir, 'r.conf');
    fs.writeFileSync(p, 'x(\n');
    const l = r.line({ path: p, line: 'x(', match: 'x(' });
    expect(probe(l)).toMatchObject({ grepFailed: true });
    const run = runApply(l.apply(probe(l)), dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('grep -E rejects the match regex');
    expect(fs.readFileSync(p, 'utf8')).toBe('x(\n');
  });

  test('the file still missing at apply time → fails clearly', () => {
    const l = r.line({ path: path.join(dir, 'nofile'), line: 'a' });
    const run = runApply(l.apply(probe(l)), dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not a regular file');
  });
});

describe('several applies in one exec, as the engine runs them', () => {
  test('each change runs; a failing one stops the rest', () => {
    const a = r.file({ path: path.join(dir, 'a'), content: 'a\n', owner: me, group: myGroup });
    const bad = r.file({ path: path.join(dir, 'nodir', 'b'), content: 'b\n' });
    const c = r.file({ path: path.join(dir, 'c'), content: 'c\n', owner: me, group: myGroup });
    const ok = runSh(`set -eu\n${a.apply(probe(a))}${c.apply(probe(c))}`, dir);
    expect(ok.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'c'), 'utf8')).toBe('c\n');
    fs.rmSync(path.join(dir, 'c'));
    const failed = runSh(`set -eu\n${bad.apply(probe(bad))}${c.apply(probe(c))}`, dir);
    expect(failed.status).toBe(1);
    expect(fs.existsSync(path.join(dir, 'c'))).toBe(false);
  });
});

describe('an apply stops at its first failure even where set -e is void', () => {
  // dash ignores set -e inside `( … ) || handle`; the engine may well run changes that way
  test('chown fails → chmod never runs', () => {
    const p = path.join(dir, 'f');
    fs.writeFileSync(p, 'x\n', { mode: 0o644 });
    fs.chmodSync(p, 0o644);
    const f = r.file({ path: p, content: 'x\n', owner: 'no-such-user-42', group: myGroup, mode: '0600' });
    const script = f.apply(probe(f));
    expect(script).not.toContain('mktemp'); // the in-place path: two commands in a row
    const run = runSh(`if ${script.trim()}; then echo applied; else echo "failed $?"; fi\n`, dir);
    expect(run.stdout).toBe('failed 1\n');
    expect(modeOf(p)).toBe('0644');
  });
});

