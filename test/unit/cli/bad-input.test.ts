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

function provision(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'dist/src/cli/main.js'), ...args], {
      env: { ...process.env, CI: 'true', PROVISION_ROLES_PATH: path.join(good, 'roles'), SSH_AUTH_SOCK: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const plan = (dir: string) => provision(['plan', dir, '--playbook', path.join(dir, 'playbook.yaml'), '--connect-timeout', '2']);

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
