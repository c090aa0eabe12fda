// The operator's workflow through the real CLI: set a secret from a pipe or typed at a terminal
// (not echoed), add a recipient and re-encrypt, rotate, delete. Only ciphertext reaches the disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { describe, test, expect } from '@jest/globals';

const repo = process.cwd();
const main = path.join(repo, 'dist/src/cli/main.js');
const good = path.join(repo, 'test/fixtures/bad-input/good');

function setup(): { dir: string; alice: string; bob: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-secrets-cli-'));
  for (const f of ['hosts.yaml', 'playbook.yaml']) fs.copyFileSync(path.join(good, f), path.join(dir, f));
  fs.cpSync(path.join(good, 'group_vars'), path.join(dir, 'group_vars'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hosts.yaml'), fs.readFileSync(path.join(dir, 'hosts.yaml'), 'utf8').replace('port: PORT', 'port: 22'));
  const alice = path.join(dir, 'alice.key');
  const bob = path.join(dir, 'bob.key');
  for (const k of [alice, bob]) execFileSync('age-keygen', ['-o', k], { stdio: 'ignore' });
  fs.mkdirSync(path.join(dir, 'secrets'));
  fs.writeFileSync(path.join(dir, 'secrets/recipients'), `# alice\n${pub(alice)}\n`);
  return { dir, alice, bob };
}
const pub = (key: string): string => execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();

function provision(args: string[], identity: string, input?: string) {
  const r = spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8', env: { ...process.env, CI: 'true', PROVISION_AGE_IDENTITY: identity, PROVISION_ROLES_PATH: path.join(good, 'roles') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const reveal = (dir: string, identity: string) => provision(['secrets', 'show', dir, '--reveal', '--json'], identity);

describe('provision secrets', () => {
  test('edit from a pipe; show lists names only; add a recipient and re-encrypt; rotate; delete', () => {
    const { dir, alice, bob } = setup();
    const set = provision(['secrets', 'edit', dir, 'webs', 'fixture-secret.api_key'], alice, 'first-value-of-the-key\n');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/secrets\/webs\.age: set fixture-secret\.api_key \(encrypted to 1 recipient\(s\)\)/);
    expect(fs.readFileSync(path.join(dir, 'secrets/webs.age'), 'utf8')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(fs.readdirSync(path.join(dir, 'secrets')).sort()).toEqual(['recipients', 'webs.age']); // no temp file left
    expect(provision(['secrets', 'show', dir], alice).stdout).toBe('webs  fixture-secret.api_key = (sensitive)\n');
    expect(JSON.parse(reveal(dir, alice).stdout)).toEqual({ webs: { 'fixture-secret': { api_key: 'first-value-of-the-key' } } });

    // bob cannot open it until someone who can adds him and re-encrypts
    expect(reveal(dir, bob).stderr).toMatch(/none of the identities in .*bob\.key can open it/);
    fs.appendFileSync(path.join(dir, 'secrets/recipients'), `# bob\n${pub(bob)}\n`);
    const rekey = provision(['secrets', 'encrypt', dir], alice);
    expect(rekey.stdout).toMatch(/re-encrypted 1 file\(s\) to the 2 recipient\(s\)/);
    expect(JSON.parse(reveal(dir, bob).stdout).webs['fixture-secret'].api_key).toBe('first-value-of-the-key');

    // bob rotates it; alice reads the new value
    expect(provision(['secrets', 'edit', dir, 'webs', 'fixture-secret.api_key'], bob, 'second-value-of-the-key').code).toBe(0);
    expect(JSON.parse(reveal(dir, alice).stdout).webs['fixture-secret'].api_key).toBe('second-value-of-the-key');

    expect(provision(['secrets', 'edit', dir, 'webs', 'fixture-secret.api_key', '--delete'], alice).code).toBe(0);
    expect(JSON.parse(reveal(dir, alice).stdout)).toEqual({ webs: { 'fixture-secret': {} } });
  });

  test('encrypt SCOPE takes a whole YAML map from stdin', () => {
    const { dir, alice } = setup();
    expect(provision(['secrets', 'encrypt', dir, 'web-1'], alice, 'fixture-secret:\n  api_key: imported-value-0123\n').code).toBe(0);
    expect(JSON.parse(reveal(dir, alice).stdout)).toEqual({ 'web-1': { 'fixture-secret': { api_key: 'imported-value-0123' } } });
    const bad = provision(['secrets', 'encrypt', dir, 'nosuch'], alice, 'a: 1\n');
    expect(bad.stderr).toMatch(/expected a group or host of .*found "nosuch"/);
  });

  test('typed at a terminal, the value is not echoed', async () => {
    const { dir, alice } = setup();
    // util-linux `script` gives the CLI a pseudo-terminal; the keystrokes are sent once the prompt shows
    const child = spawn('script', ['-qec', `node ${main} secrets edit ${dir} webs fixture-secret.api_key`, '/dev/null'], {
      env: { ...process.env, CI: 'true', PROVISION_AGE_IDENTITY: alice },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Enter to finish') && child.stdin.writable) child.stdin.end('typed-secret-value-42\r');
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toContain('the new value of fixture-secret.api_key (not shown; Enter to finish)');
    expect(out).not.toContain('typed-secret-value-42');
    expect(JSON.parse(reveal(dir, alice).stdout).webs['fixture-secret'].api_key).toBe('typed-secret-value-42');
  });
});
