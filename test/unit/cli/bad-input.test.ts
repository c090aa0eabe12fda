// Bad input gets a clear error — the file, the path inside it, what was expected, what was found —
// and no connection is opened. Each case breaks a copy of a valid inventory in one way; the hosts
// point at a local listener that counts connections. The valid baseline proves the listener
// does see a connection when the input is good.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';

const repo = process.cwd();
const good = path.join(repo, 'test/fixtures/bad-input/good');
let server: net.Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function copyCase(mutate: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-bad-'));
  for (const f of ['hosts.yaml', 'playbook.yaml']) fs.copyFileSync(path.join(good, f), path.join(dir, f));
  // A real key, so that a valid input really gets as far as connecting.
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id_test')]);
  fs.cpSync(path.join(good, 'group_vars'), path.join(dir, 'group_vars'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'known_hosts'), '');
  edit(dir, 'hosts.yaml', (s) => s.replace('port: PORT', `port: ${port}`));
  mutate(dir);
  return dir;
}

function edit(dir: string, file: string, f: (s: string) => string): void {
  const p = path.join(dir, file);
  fs.writeFileSync(p, f(fs.readFileSync(p, 'utf8')));
}

function provision(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'dist/src/cli/main.js'), ...args], {
      env: { ...process.env, CI: 'true', PROVISION_ROLES_PATH: path.join(good, 'roles'), SSH_AUTH_SOCK: '', PROVISION_AGE_IDENTITY: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const plan = (dir: string, ...extra: string[]) => provision(['plan', dir, '--playbook', path.join(dir, 'playbook.yaml'), '--connect-timeout', '2', ...extra]);

describe('valid baseline', () => {
  test('check passes offline; plan does try to connect (so the listener can see it)', async () => {
    const dir = copyCase(() => {});
    const before = connections;
    const checked = await provision(['check', dir, '--playbook', path.join(dir, 'playbook.yaml')]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(connections).toBe(before);
    await plan(dir);
    expect(connections).toBeGreaterThan(before);
  });
});

const cases: [string, (dir: string) => void, RegExp][] = [
  ['YAML syntax', (d) => edit(d, 'hosts.yaml', (s) => s.replace('gate: { address: 127.0.0.1 }', 'gate: { address: 127.0.0.1')), /hosts\.yaml:\d+: expected valid YAML/],
  ['duplicate host', (d) => edit(d, 'hosts.yaml', (s) => s.replace('groups:', '  gate: { address: 127.0.0.2 }\ngroups:')), /hosts\.yaml:\d+: expected each key once in a map .*found "gate" defined twice/],
  ['unknown role', (d) => edit(d, 'playbook.yaml', (s) => s.replace('[fixture-web]', '[fixture-web, no-such-role]')), /playbook\.yaml:3 at 0\.roles\.1: expected a role under roles\/ .*found unknown role "no-such-role"/],
  ['wrong var type', (d) => edit(d, 'group_vars/webs.yaml', (s) => s.replace('8080', 'eighty')), /group_vars\/webs\.yaml:2 at fixture-web\.port: expected a value of type integer .*found string "eighty"/],
  ['unknown var (typo)', (d) => edit(d, 'group_vars/webs.yaml', (s) => s + '  prot: 80\n'), /group_vars\/webs\.yaml:3 at fixture-web\.prot: expected one of the keys port, banner, with_motd.*found unknown key "prot"/],
  ['vars for an unknown role', (d) => edit(d, 'group_vars/webs.yaml', (s) => s.replace('fixture-web:', 'fixture-wbe:')), /group_vars\/webs\.yaml:1 at fixture-wbe: expected a role name as top-level key \(.*fixture-web.*\), found "fixture-wbe"/],
  ['missing template var', (d) => edit(d, 'group_vars/webs.yaml', (s) => s + '  with_motd: true\n'), /templates\/motd\.hbs:1 at motd: expected a value for "motd" in the template data, found nothing/],
  ['unknown group in a play', (d) => edit(d, 'playbook.yaml', (s) => s.replace('hosts: webs', 'hosts: wbes')), /playbook\.yaml:2 at 0\.hosts: expected a pattern of inventory groups or hosts, found "wbes" in host pattern "wbes" names no group or host/],
  ['bad serial', (d) => edit(d, 'playbook.yaml', (s) => s.replace('serial: 1', 'serial: "150%"')), /playbook\.yaml:4 at 0\.serial: expected .*batch size \(integer ≥ 1\) or a percentage.*found string "150%"/],
  ['unknown play key', (d) => edit(d, 'playbook.yaml', (s) => s.replace('serial: 1', 'serail: 1')), /playbook\.yaml:4 at 0\.serail: expected one of the keys name, hosts, roles, serial.*found unknown key "serail"/],
  ['missing key file', (d) => edit(d, 'hosts.yaml', (s) => s.replace('./id_test', './id_missing')), /at hosts\.(gate|web-1)\.key: expected a readable private key file, found no file .*id_missing/],
  ['unknown jump host', (d) => edit(d, 'hosts.yaml', (s) => s.replace('jump: gate', 'jump: gatee')), /hosts\.yaml:\d+ at hosts\.web-1\.jump: expected the name of an inventory host to jump through, found unknown host "gatee"/],
  ['port out of range', (d) => edit(d, 'group_vars/webs.yaml', (s) => s.replace('8080', '70000')), /group_vars\/webs\.yaml:2 at fixture-web\.port: expected a value that must be <= 65535.*found number 70000/],
  ['unknown release', (d) => edit(d, 'hosts.yaml', (s) => s.replace('  known_hosts: known_hosts', '  known_hosts: known_hosts\n  spec: { os: debian-14 }')), /hosts\.yaml:\d+ at defaults\.spec\.os: expected one of "debian-12", "debian-13" \(the release the host must run.*\), found string "debian-14"\n/],
  ['vars file for an unknown group', (d) => fs.writeFileSync(path.join(d, 'group_vars/wbes.yaml'), 'fixture-web: {}\n'), /group_vars\/wbes\.yaml: expected the name of a group in hosts\.yaml .*found unknown group "wbes"/],
];

describe('bad input: a clear error and no connection', () => {
  test.each(cases)('%s', async (_name, mutate, message) => {
    const dir = copyCase(mutate);
    const before = connections;
    const r = await plan(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid input — nothing was changed, no connection was opened/);
    expect(r.stderr).toMatch(message);
    expect(connections).toBe(before);
  });
});

// Secrets: the copy gets the role fixture-secret, an age identity, a recipients file and
// secrets/webs.age holding a valid api_key. Each case breaks one thing.
const API_KEY = 'k3y-0f-the-fixture-api-2026';
const age = (args: string[], input?: string): string => execFileSync('age', args, { input, encoding: 'utf8' });

function secretCase(mutate: (dir: string, identity: string) => void): { dir: string; identity: string } {
  const dir = copyCase(() => {});
  const identity = path.join(dir, 'operator.key');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  fs.mkdirSync(path.join(dir, 'secrets'));
  fs.writeFileSync(path.join(dir, 'secrets/recipients'), `# the operator\n${execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' })}`);
  edit(dir, 'playbook.yaml', (s) => s.replace('[fixture-web]', '[fixture-web, fixture-secret]'));
  fs.writeFileSync(path.join(dir, 'secrets/webs.age'), age(['-e', '-a', '-R', path.join(dir, 'secrets/recipients')], `fixture-secret:\n  api_key: ${API_KEY}\n`));
  mutate(dir, identity);
  return { dir, identity };
}

/** Flip one bit of the payload (the last line of the armour before the footer), keeping the armour valid. */
function tamper(file: string): void {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const bytes = Buffer.from(lines.slice(1, -1).join(''), 'base64');
  bytes[bytes.length - 3]! ^= 1;
  const body = bytes.toString('base64').replace(/.{1,64}/g, '$&\n');
  fs.writeFileSync(file, `${lines[0]}\n${body}${lines[lines.length - 1]}\n`);
}

describe('secrets: a valid encrypted file works, and the plaintext is never printed', () => {
  test('check passes with the identity; plan connects', async () => {
    const { dir, identity } = secretCase(() => {});
    const before = connections;
    const checked = await provision(['check', dir, '--playbook', path.join(dir, 'playbook.yaml'), '--identity', identity]);
    expect([checked.code, checked.stderr]).toEqual([0, '']);
    expect(connections).toBe(before);
    const r = await plan(dir, '--identity', identity);
    expect(connections).toBeGreaterThan(before);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    const shown = await provision(['secrets', 'show', dir, '--identity', identity]);
    expect(shown.stdout).toBe('webs  fixture-secret.api_key = (sensitive)\n');
    const invJson = await provision(['inventory', dir, '--json', '--identity', identity]);
    expect(JSON.parse(invJson.stdout).hosts['web-1'].vars['fixture-secret']).toEqual({ api_key: '(sensitive)' });
    const revealed = await provision(['secrets', 'show', dir, 'webs', '--reveal', '--identity', identity]);
    expect(revealed.stdout).toBe(`webs:\n  fixture-secret:\n    api_key: ${API_KEY}\n`);
  });

  test('the lab may opt in to plain secrets, by name', async () => {
    const { dir } = secretCase((d) => {
      fs.rmSync(path.join(d, 'secrets'), { recursive: true });
      edit(d, 'group_vars/webs.yaml', (s) => `${s}fixture-secret:\n  api_key: ${API_KEY}\n`);
      edit(d, 'hosts.yaml', (s) => `lab:\n  bridge: prvbadsec0\n  network: 10.213.91.0/24\n  allow_plaintext_secrets_for_lab_only: true\n${s}`);
    });
    const checked = await provision(['check', dir, '--playbook', path.join(dir, 'playbook.yaml')]);
    expect([checked.code, checked.stderr]).toEqual([0, '']);
  });
});

const secretCases: [string, (dir: string, identity: string) => string[], RegExp][] = [
  ['missing identity', () => [], /secrets\/webs\.age: expected an age identity that can decrypt it: --identity FILE or PROVISION_AGE_IDENTITY=FILE, found no identity given/],
  ['identity file missing', (d) => ['--identity', path.join(d, 'no-such.key')], /secrets\/webs\.age: expected a readable age identity file .*found no file .*no-such\.key/],
  ['wrong identity', (d) => {
    execFileSync('age-keygen', ['-o', path.join(d, 'other.key')], { stdio: 'ignore' });
    return ['--identity', path.join(d, 'other.key')];
  }, /secrets\/webs\.age: expected a file encrypted to one of your identities .*found none of the identities in .*other\.key can open it/],
  ['a file no recipient can open', (d, id) => {
    const stranger = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rec = /public key: (age1\S+)/.exec(stranger)![1]!;
    fs.writeFileSync(path.join(d, 'secrets/webs.age'), age(['-e', '-a', '-r', rec], `fixture-secret:\n  api_key: ${API_KEY}\n`));
    return ['--identity', id];
  }, /secrets\/webs\.age: expected a file encrypted to one of your identities .*found none of the identities in .*operator\.key can open it/],
  ['tampered ciphertext', (d, id) => {
    tamper(path.join(d, 'secrets/webs.age'));
    return ['--identity', id];
  }, /secrets\/webs\.age: expected an intact age file as `provision secrets` writes it, found damaged or tampered ciphertext \(age: .*\)/],
  ['a secret invalid for its schema', (d, id) => {
    fs.writeFileSync(path.join(d, 'secrets/webs.age'), age(['-e', '-a', '-R', path.join(d, 'secrets/recipients')], 'fixture-secret:\n  api_key: short-but-8\n'));
    return ['--identity', id];
  }, /secrets\/webs\.age:2 at fixture-secret\.api_key: expected a value that must NOT have fewer than 16 characters .*found a secret value \(not shown\)/],
  ['a secret var in plain YAML', (d, id) => {
    edit(d, 'group_vars/webs.yaml', (s) => `${s}fixture-secret:\n  api_key: ${API_KEY}\n`);
    return ['--identity', id];
  }, /group_vars\/webs\.yaml:4 at fixture-secret\.api_key: expected secret var api_key of role fixture-secret in an encrypted file .*found it in plain YAML/],
  ['a plain var in an encrypted file', (d, id) => {
    fs.writeFileSync(path.join(d, 'secrets/webs.age'), age(['-e', '-a', '-R', path.join(d, 'secrets/recipients')], `fixture-secret:\n  api_key: ${API_KEY}\nfixture-web:\n  port: 8081\n`));
    return ['--identity', id];
  }, /secrets\/webs\.age:4 at fixture-web\.port: expected only vars role fixture-web marks as Secret\(\) in an encrypted file, found a plain var/],
  ...([
    ['world-readable', /file:\/etc\/fixture-secret\.key: holds a secret but mode 0644 lets every user read it/],
    ['command-line', /command:register: carries a secret, .*give it to the command on stdin/],
    ['handler', /handler "tell the api" carries a secret/],
    ['health', /health check "api answers" carries a secret/],
  ] as const).map(([misuse, message]): [string, (dir: string, identity: string) => string[], RegExp] => [
    `a role putting a secret where it must not go: ${misuse}`,
    (d, id) => {
      edit(d, 'group_vars/webs.yaml', (s) => `${s}fixture-secret:\n  misuse: ${misuse}\n`);
      return ['--identity', id];
    },
    message,
  ]),
];

describe('bad secrets input: a clear error, no connection, no plaintext', () => {
  test.each(secretCases)('%s', async (_name, mutate, message) => {
    let extra: string[] = [];
    const { dir } = secretCase((d, id) => (extra = mutate(d, id)));
    const before = connections;
    const r = await plan(dir, ...extra);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid input — nothing was changed, no connection was opened/);
    expect(r.stderr).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    expect(r.stdout + r.stderr).not.toContain('short-but-8');
    expect(connections).toBe(before);
  });
});
