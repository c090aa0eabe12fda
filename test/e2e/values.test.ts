// Values shared between hosts, on real lab hosts: each host makes an Ed25519 key pair on the host
// and publishes its public key; each writes a file naming the other's address, inventory label and
// public key. On fresh hosts the plan shows those files "(known after apply)"; ONE apply converges
// both (key pairs first, then the files that name them); the next plan is empty at one exec per
// host; a key made again on one host reaches the other in one apply; and the private keys are in
// none of the controller's outputs, its saved plan, its probe recordings or the files it wrote.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { cli, cliJson, controllerFiles, ssh, useFleet } from './helpers.js';

const inv = 'test/fixtures/e2e/values';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const ADDR = { 'k-1': '10.213.97.11', 'k-2': '10.213.97.12' } as const;
type HostName = keyof typeof ADDR;
const other = (h: HostName): HostName => (h === 'k-1' ? 'k-2' : 'k-1');
const on = (h: HostName, cmd: string) => ssh(ADDR[h], cmd, { knownHosts });
type Out = { hosts: { host: string; result: string; changes: { id: string; summary: string }[]; execs: number; error?: string }[] };
const byHost = (o: { data: Out }) => Object.fromEntries(o.data.hosts.map((h) => [h.host, h]));
const started = new Date();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-values-e2e-'));
/** every text the controller printed, by name: scanned for private keys at the end */
const outputs = new Map<string, string>();
const run = (name: string, cmd: 'plan' | 'apply', ...extra: string[]) => {
  const r = cliJson<Out>([cmd, inv, '--playbook', playbook, '--connect-timeout', '4', ...extra]);
  outputs.set(name, JSON.stringify(r.data) + r.stderr);
  return r;
};
const publicKey = (h: HostName) => on(h, 'cat /etc/e2e-keypair/id.pub').stdout.trim();
const privateKey = (h: HostName) => on(h, 'cat /etc/e2e-keypair/id').stdout;
const peerFile = (h: HostName) => on(h, `cat /etc/e2e-peers/${other(h)}.pub`);
/** private keys seen on the hosts during the test (every generation) */
const privates = new Set<string>();

useFleet(inv, { done: () => fs.rmSync(scratch, { recursive: true, force: true }) });

describe('a public key made on one host reaches the other in one apply; the private key never leaves', () => {
  test('fresh hosts: the plan shows the peer files "(known after apply)", saved and recorded', () => {
    const planFile = path.join(scratch, 'plan.json');
    const r = run('first plan', 'plan', '--out', planFile);
    expect(r.code).toBe(2);
    const h = byHost(r);
    for (const name of ['k-1', 'k-2'] as const) {
      const peer = h[name]!.changes.find((c) => c.id === `file:/etc/e2e-peers/${other(name)}.pub`);
      expect(peer?.summary).toMatch(new RegExp(`\\(known after apply: ${other(name)} e2e-keypair\\.publicKey\\)$`));
      expect(h[name]!.changes.map((c) => c.id)).toContain('command:make the key pair');
      expect(h[name]!.execs).toBe(1);
    }
    const human = cli(['plan', inv, '--playbook', playbook, '-v']);
    outputs.set('first plan, human', human.stdout + human.stderr);
    expect(human.stdout).toContain('(known after apply: k-2 e2e-keypair.publicKey)');
    outputs.set('saved plan', fs.readFileSync(planFile, 'utf8'));
  });

  test('ONE apply converges both hosts: each names the other by its public key; next plan empty at 1 exec per host', () => {
    const t0 = Date.now();
    const r = run('first apply', 'apply');
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    const h = byHost(r);
    for (const name of ['k-1', 'k-2'] as const) {
      expect([name, h[name]!.result, h[name]!.error]).toEqual([name, 'changed', undefined]);
      const key = publicKey(name);
      expect(key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+ k-[12]$/);
      // the private key is on the host, 0600, and matches the public one
      expect(on(name, 'stat -c %a /etc/e2e-keypair/id').stdout.trim()).toBe('600');
      expect(on(name, 'ssh-keygen -y -f /etc/e2e-keypair/id').stdout.split(' ').slice(0, 2)).toEqual(key.split(' ').slice(0, 2));
      privates.add(privateKey(name));
    }
    for (const name of ['k-1', 'k-2'] as const) {
      const f = peerFile(name);
      expect(f.code).toBe(0);
      const p = other(name);
      expect(f.stdout).toBe(`# ${p} at ${ADDR[p]}, ${p === 'k-1' ? 'first' : 'second'}\n${publicKey(p)}\n`);
    }
    console.log(`values e2e: first apply of 2 hosts ${ms} ms, execs ${JSON.stringify(Object.fromEntries(r.data.hosts.map((x) => [x.host, x.execs])))}`);
    const next = run('plan after apply', 'plan');
    expect(next.code).toBe(0);
    for (const x of next.data.hosts) expect([x.host, x.changes, x.execs]).toEqual([x.host, [], 1]);
  });

  test('a key pair made again on k-2 reaches k-1 in one apply', () => {
    const before = publicKey('k-2');
    on('k-2', 'rm -f /etc/e2e-keypair/id /etc/e2e-keypair/id.pub');
    const plan = run('plan after removing k-2 keys', 'plan');
    expect(plan.code).toBe(2);
    const h = byHost(plan);
    expect(h['k-2']!.changes.map((c) => c.id)).toEqual(['command:make the key pair']);
    // k-1 still names the key it read; the probe of k-2 no longer finds one: known after apply
    expect(h['k-1']!.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/\(known after apply: k-2 e2e-keypair\.publicKey\)$/)]);
    const recordDir = path.join(scratch, 'probes');
    const r = cliJson<Out>(['apply', inv, '--playbook', playbook], { PROVISION_RECORD_PROBES: recordDir });
    outputs.set('second apply', JSON.stringify(r.data) + r.stderr);
    expect(r.code).toBe(0);
    // the generator: probe + apply; the peer: a probe with nothing it can do yet, then its round: probe + apply
    expect(r.data.hosts.map((x) => [x.host, x.result, x.execs])).toEqual([['k-1', 'changed', 3], ['k-2', 'changed', 2]]);
    const after = publicKey('k-2');
    expect(after).not.toBe(before);
    expect(peerFile('k-1').stdout).toBe(`# k-2 at ${ADDR['k-2']}, second\n${after}\n`);
    privates.add(privateKey('k-2'));
    // the recordings hold what the probes read (k-1's last one: its second round, its own public key), nothing private
    const recorded = fs.readdirSync(recordDir).map((f) => fs.readFileSync(path.join(recordDir, f), 'utf8')).join('\n');
    expect(recorded).toContain(JSON.stringify(publicKey('k-1')));
    outputs.set('probe recordings', recorded);
    const next = run('plan after second apply', 'plan');
    expect(next.code).toBe(0);
    for (const x of next.data.hosts) expect([x.host, x.changes, x.execs]).toEqual([x.host, [], 1]);
  });

  test("no private key in the controller's outputs, saved plan, probe recordings or files", () => {
    expect(privates.size).toBe(3);
    const secrets = [...privates].flatMap(seedForms);
    expect(secrets.length).toBe(12);
    // a leak could be wrapped (a key file's base64 lines): each text is also searched unwrapped
    const hits = (text: string) => secrets.filter((s) => text.includes(s) || text.replace(/\s+/g, '').includes(s)).length;
    // the scanner can fail: a private key is found
    expect(hits([...privates][0]!)).toBeGreaterThan(0);
    expect(hits(Buffer.from(seedOf([...privates][0]!)).toString('hex'))).toBe(1);
    expect(outputs.size).toBeGreaterThanOrEqual(7);
    for (const [name, text] of outputs) expect([name, hits(text)]).toEqual([name, 0]);
    const files = controllerFiles(started);
    expect(files.length).toBeGreaterThan(50);
    const leaks = files.filter((f) => {
      try {
        return hits(fs.readFileSync(f, 'latin1')) > 0;
      } catch {
        return false; // gone since (another process's temp file)
      }
    });
    expect(leaks).toEqual([]);
  });
});

/** The 32-byte Ed25519 seed inside an unencrypted OpenSSH private key file (the secret part). */
function seedOf(file: string): Buffer {
  const body = Buffer.from(file.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  // the private section holds the key as seed || public key (64 bytes) after its length 0x40
  const at = body.lastIndexOf(Buffer.from([0, 0, 0, 64]));
  expect(at).toBeGreaterThan(0);
  return body.subarray(at + 4, at + 4 + 32);
}

/** The forms a leaked seed could take: hex, and base64 at each of the three byte offsets (inner characters only). */
function seedForms(file: string): string[] {
  const seed = seedOf(file);
  return [seed.toString('hex'), ...[0, 1, 2].map((o) => Buffer.concat([Buffer.alloc(o), seed, Buffer.alloc(3)]).toString('base64').slice(4, 40))];
}
