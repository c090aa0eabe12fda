// inventory/prod, the example production inventory, checked OFFLINE with the real CLI
// (`provision check`, which opens no connection): it is valid with the site playbook; broken copies
// fail with messages that name the host, the rule and the numbers. It uses documentation addresses
// only and is never contacted. Its secrets (the snapshot master) open with the EXAMPLE identity
// test/fixtures/prod/example-age-identity.txt, the only recipient of inventory/prod/secrets.
import { describe, test, expect, afterAll } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers.js';

const PROD = path.join(repoRoot, 'inventory/prod');
const PLAYBOOK = path.join(repoRoot, 'playbooks/site.yaml');
const IDENTITY = path.join(repoRoot, 'test/fixtures/prod/example-age-identity.txt');
const temps: string[] = [];
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function check(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'check', dir, '--playbook', PLAYBOOK, '--identity', IDENTITY], {
      cwd: repoRoot,
      env: { ...process.env, CI: 'true', PROVISION_ROLES_PATH: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A copy of inventory/prod in a temp dir, with hosts.yaml edited. */
function copyWith(edit: (hostsYaml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-prod-'));
  temps.push(dir);
  fs.cpSync(PROD, dir, { recursive: true });
  const file = path.join(dir, 'hosts.yaml');
  const before = fs.readFileSync(file, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('the edit changed nothing: the test is out of step with inventory/prod/hosts.yaml');
  fs.writeFileSync(file, after);
  return dir;
}

describe('inventory/prod with the site playbook', () => {
  test('passes `provision check`', async () => {
    const r = await check(PROD);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^relay-1: base, drand-http-relay — \d+ resources$/m);
    expect(r.stdout).toMatch(/^relay-2: base, drand-http-relay — \d+ resources$/m);
    expect(r.stdout).toMatch(/^drand-3: base, drand-node, snapshot — \d+ resources$/m);
    expect(r.stdout).toMatch(/^bastion-2: base, bastion, snapshot — \d+ resources$/m);
    expect(r.stdout).toMatch(/^snapshot-1: base, snapshot-server — \d+ resources$/m);
    expect(r.stdout).toContain('(9 hosts, no connection opened)');
    expect(r.stdout).not.toContain('!'); // no sizing warnings: every host is sized for its roles
  });

  test('a drand node that also carries the relay role is refused, naming both roles and the host', async () => {
    const dir = copyWith((s) => s.replace('http_relays: { hosts: [relay-1, relay-2] }', 'http_relays: { hosts: [relay-1, relay-2, drand-1] }'));
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hosts\.yaml at hosts\.drand-1: expected placement rules of the roles kept/);
    expect(r.stderr).toMatch(/role (drand-node and role drand-http-relay|drand-http-relay and role drand-node) must not share a machine, found both on host drand-1/);
    expect(r.stderr).toContain('no connection was opened');
  });

  test('an undersized relay is refused: the host, the field, what the role needs, what it has', async () => {
    const dir = copyWith((s) => s.replace('spec: { cpus: 8, memoryGiB: 32, diskGiB: 240', 'spec: { cpus: 8, memoryGiB: 16, diskGiB: 240'));
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /hosts\.yaml at hosts\.relay-1\.spec\.memoryGiB: expected role drand-http-relay needs ≥ 30 GiB memory \(seed 000 .*32 GB memory.*\), found 16 GiB memory/,
    );
    expect(r.stderr).not.toMatch(/relay-2/);
  });

  test('with `sizing: warn` on that host it passes, with a warning', async () => {
    const dir = copyWith((s) =>
      s
        .replace('spec: { cpus: 8, memoryGiB: 32, diskGiB: 240', 'spec: { cpus: 8, memoryGiB: 16, diskGiB: 240')
        .replace('  relay-1:\n    address: 203.0.113.41\n', '  relay-1:\n    address: 203.0.113.41\n    sizing: warn\n'),
    );
    const r = await check(dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/relay-1: base, drand-http-relay[^\n]*\n\s+! undersized \(inventory spec\): role drand-http-relay needs ≥ 30 GiB memory .*; has 16 GiB memory/);
  });
});

describe('inventory/prod is a safe example', () => {
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const hostsDoc = parse(fs.readFileSync(path.join(PROD, 'hosts.yaml'), 'utf8')) as {
    lab?: unknown;
    defaults: Record<string, unknown>;
    hosts: Record<string, { address: string; jump?: string; spec: Record<string, unknown> }>;
    groups: Record<string, { hosts?: string[] }>;
  };

  test('documentation addresses only (RFC 5737: 198.51.100.0/24, 203.0.113.0/24)', () => {
    for (const f of files(PROD)) {
      const ips = fs.readFileSync(f, 'utf8').match(/\b\d{1,3}(\.\d{1,3}){3}\b/g) ?? [];
      for (const ip of ips) expect(`${path.relative(PROD, f)}: ${ip}`).toMatch(/: (198\.51\.100|203\.0\.113)\.\d+$/);
    }
  });

  test('production connection settings: no lab section, a non-root login, enforced sizing, bastions in front', () => {
    expect(hostsDoc.lab).toBeUndefined();
    expect(hostsDoc.defaults).toMatchObject({ user: 'provision', sizing: 'enforce', known_hosts: 'known_hosts' });
    expect(String(hostsDoc.defaults.key)).toMatch(/^~\/\.ssh\//);
    const bastions = hostsDoc.groups.bastions!.hosts!;
    expect(bastions).toHaveLength(2);
    for (const [name, h] of Object.entries(hostsDoc.hosts)) {
      if (bastions.includes(name)) expect(h.jump).toBeUndefined();
      else expect(bastions).toContain(h.jump);
      expect(h.spec.provider).toMatch(/^(baremetal|aws|hetzner)$/);
    }
    expect(new Set(Object.values(hostsDoc.hosts).map((h) => h.spec.provider)).size).toBe(3);
    expect(hostsDoc.groups.drand_nodes!.hosts!.length).toBeGreaterThanOrEqual(3);
    expect(hostsDoc.groups.http_relays!.hosts).toHaveLength(2);
  });

  test('known_hosts: an ed25519 public key for every host address, no private key anywhere', () => {
    const lines = fs.readFileSync(path.join(PROD, 'known_hosts'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    const byAddress = new Map(lines.map((l) => [l.split(' ')[0], l.split(' ')[1]]));
    for (const h of Object.values(hostsDoc.hosts)) expect(byAddress.get(h.address)).toBe('ssh-ed25519');
    for (const f of files(PROD)) expect(fs.readFileSync(f, 'utf8')).not.toContain('PRIVATE KEY');
  });

  test('the binaries are pinned URLs, marked as example pins', () => {
    for (const [file, role] of [['drand_nodes.yaml', 'drand-node'], ['http_relays.yaml', 'drand-http-relay']] as const) {
      const text = fs.readFileSync(path.join(PROD, 'group_vars', file), 'utf8');
      const b = (parse(text) as Record<string, { binary: { url?: string; file?: string; sha256: string } }>)[role]!.binary;
      expect(b.url).toMatch(/^https:\/\//);
      expect(b.file).toBeUndefined();
      expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(text).toMatch(/EXAMPLE PIN/);
    }
  });
});
