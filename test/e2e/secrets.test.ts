// Secrets on real lab hosts: three secret vars reach two hosts by three routes (a rendered 0600
// config, a key file, a command's stdin). Afterwards every output of check/plan/apply (text and
// --json), the saved plan, the controller's files and each host's journal and provision's own
// files are scanned for every secret's plaintext, base64 and hex forms: none may be there. And
// the positive side: the secrets ARE in their target files with the right mode and owner, a
// rotated secret shows as "(sensitive) changed", converges, and the next plan is empty.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { cli, cliJson, controllerFiles, repo, ssh, useFleet } from './helpers.js';

const inv = 'test/fixtures/e2e/secrets';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const HOSTS = { 'sec-1': '10.213.91.11', 'sec-2': '10.213.91.12' } as const;
const on = (addr: string, cmd: string) => ssh(addr, cmd, { knownHosts });
const args = (cmd: string, ...extra: string[]) => [cmd, inv, '--playbook', playbook, '--connect-timeout', '4', ...extra];

/** Everything provision printed or wrote, by name: scanned at the end. */
const outputs = new Map<string, string>();
const keep = (name: string, r: { stdout: string; stderr: string }) => outputs.set(name, `${r.stdout}\n${r.stderr}`);
/** Every plaintext the run used, old and new. */
const plaintexts = new Set<string>();
let started: Date;
let planFile: string;

type Secrets = { apps: { 'e2e-secret-app': { db_password: string; api_token: string } } } & Record<'sec-1' | 'sec-2', { 'e2e-secret-app': { signing_key: string } }>;
function reveal(): Secrets {
  const r = cli(['secrets', 'show', inv, '--reveal', '--json']);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout) as Secrets;
  for (const v of [s.apps['e2e-secret-app'].db_password, s.apps['e2e-secret-app'].api_token, s['sec-1']['e2e-secret-app'].signing_key, s['sec-2']['e2e-secret-app'].signing_key]) plaintexts.add(v);
  return s;
}

/** The forms a leak could take: as is, base64 (with and without padding), hex. */
const forms = (p: string): string[] => {
  const b = Buffer.from(p);
  return [p, b.toString('base64'), b.toString('base64').replace(/=+$/, ''), b.toString('hex')];
};
const hits = (text: string): string[] => [...plaintexts].flatMap((p) => forms(p).filter((f) => text.includes(f)).map((f) => `${p.slice(0, 3)}…(${f === p ? 'plain' : f.length === p.length * 2 ? 'hex' : 'base64'})`));

// A fresh set of lab secrets too: lab up regenerates the .age files an earlier run left.
beforeAll(() => {
  started = new Date(Date.now() - 1000);
  for (const f of fs.readdirSync(path.resolve(inv, 'secrets')).filter((f) => f.endsWith('.age'))) fs.rmSync(path.resolve(inv, 'secrets', f));
  planFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'provision-secrets-e2e-')), 'plan.json');
});
useFleet(inv);

describe('secrets on lab hosts', () => {
  test('lab up made the secrets: encrypted files that only the lab identity opens, listed without values', () => {
    const apps = fs.readFileSync(path.resolve(inv, 'secrets/apps.age'), 'utf8');
    expect(apps).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    const s = reveal();
    expect(s.apps['e2e-secret-app'].db_password.length).toBeGreaterThanOrEqual(16);
    expect(s['sec-1']['e2e-secret-app'].signing_key).not.toBe(s['sec-2']['e2e-secret-app'].signing_key);
    const shown = cli(['secrets', 'show', inv]);
    keep('secrets show', shown);
    expect(shown.stdout).toContain('apps  e2e-secret-app.db_password = (sensitive)');
  });

  test('check, plan (text, --json, --out) and apply (text and --json): sensitive changes, no content shown', () => {
    const check = cli(args('check'));
    keep('check', check);
    expect(check.code).toBe(0);
    keep('check --json', cli(args('check', '--json')));

    const planText = cli(args('plan', '--out', planFile));
    keep('plan', planText);
    expect(planText.code).toBe(2);
    expect(planText.stdout).toContain('/etc/secretapp/app.conf');
    const planJson = cliJson<{ hosts: { host: string; changes: { id: string; summary: string; diff?: string; sensitive?: boolean }[] }[] }>(args('plan'));
    outputs.set('plan --json', JSON.stringify(planJson.data) + planJson.stderr);
    const changes = planJson.data.hosts.find((h) => h.host === 'sec-1')!.changes;
    const byId = Object.fromEntries(changes.map((c) => [c.id, c]));
    for (const id of ['file:/etc/secretapp/app.conf', 'file:/etc/secretapp/signing.key', 'command:register the API token']) {
      expect(byId[id]?.sensitive).toBe(true);
    }
    expect(byId['file:/etc/secretapp/app.conf']!.diff).toBe('content: (sensitive) new');
    // a resource without a secret stays fully visible
    expect(byId['directory:/etc/secretapp']!.sensitive).toBeUndefined();

    const applied = cli(args('apply', '--plan', planFile));
    keep('apply --plan', applied);
    expect(applied.code).toBe(0);
    const second = cliJson(args('apply'));
    outputs.set('apply --json (no-op)', JSON.stringify(second.data) + second.stderr);
    expect(second.code).toBe(0);
    for (const h of second.data.hosts) expect([h.result, h.execs]).toEqual(['unchanged', 1]);
  });

  test('each secret is on its host where it belongs, 0600 and owned by the service user', () => {
    const s = reveal();
    for (const [name, addr] of Object.entries(HOSTS)) {
      expect(on(addr, 'stat -c "%a %U:%G" /etc/secretapp/app.conf /etc/secretapp/signing.key').stdout.trim().split('\n')).toEqual(['600 secretapp:secretapp', '600 secretapp:secretapp']);
      expect(on(addr, 'cat /etc/secretapp/app.conf').stdout).toContain(`password = ${s.apps['e2e-secret-app'].db_password}\n`);
      expect(on(addr, 'cat /etc/secretapp/signing.key').stdout).toBe(s[name as 'sec-1']['e2e-secret-app'].signing_key);
      // the command got the token on stdin: it recorded its hash
      expect(on(addr, 'cat /var/lib/secretapp/token.sha256').stdout.trim()).toBe(createHash('sha256').update(s.apps['e2e-secret-app'].api_token).digest('hex'));
      // the atomic writes left no temp file behind
      expect(on(addr, 'find /etc /var/lib /tmp -xdev -name ".provision.*" | wc -l').stdout.trim()).toBe('0');
    }
  });

  test('a rotated secret shows as "(sensitive) changed", converges, and the next plan is empty', () => {
    const old = reveal().apps['e2e-secret-app'].db_password;
    const fresh = `rotated-${createHash('sha256').update(String(Date.now())).digest('base64url').slice(0, 24)}`;
    plaintexts.add(fresh);
    const edit = spawnSync(process.execPath, [path.join(repo, 'dist/src/cli/main.js'), 'secrets', 'edit', inv, 'apps', 'e2e-secret-app.db_password'], { input: `${fresh}\n`, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    keep('secrets edit', edit);
    expect(edit.status).toBe(0);
    expect(fs.readFileSync(path.resolve(inv, 'secrets/apps.age'), 'utf8')).not.toContain(fresh);

    const plan = cli(args('plan'));
    keep('plan after rotation', plan);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('update /etc/secretapp/app.conf: (sensitive) changed');
    const planJson = cliJson<{ hosts: { changes: { id: string }[] }[] }>(args('plan'));
    outputs.set('plan --json after rotation', JSON.stringify(planJson.data) + planJson.stderr);
    for (const h of planJson.data.hosts) expect(h.changes.map((c) => c.id)).toEqual(['file:/etc/secretapp/app.conf']);

    // While it applies, sample every process's command line on sec-1 (one `cat` of all
    // /proc/*/cmdline per loop): the new password must not be an argument of anything.
    const SEC1 = HOSTS['sec-1'];
    expect(on(SEC1, "sh -c 'while :; do cat /proc/[0-9]*/cmdline 2>/dev/null; echo; done' >/root/cmdlines </dev/null 2>&1 & echo $! >/root/sampler.pid").code).toBe(0);
    const applied = cliJson(args('apply'));
    outputs.set('apply --json after rotation', JSON.stringify(applied.data) + applied.stderr);
    const cmdlines = on(SEC1, 'kill $(cat /root/sampler.pid); tr "\\0" "\\n" </root/cmdlines | sort -u; rm -f /root/cmdlines /root/sampler.pid');
    expect(cmdlines.stdout.split('\n')).toEqual(expect.arrayContaining(['sh', '-s'])); // it saw provision's remote shell
    outputs.set('command lines on sec-1 during apply', cmdlines.stdout);
    expect(applied.code).toBe(0);
    for (const addr of Object.values(HOSTS)) {
      const conf = on(addr, 'cat /etc/secretapp/app.conf').stdout;
      expect(conf).toContain(`password = ${fresh}\n`);
      expect(conf).not.toContain(old);
    }
    const after = cli(args('plan'));
    keep('plan after apply', after);
    expect(after.code).toBe(0);
  });

  test('no secret in any output, the saved plan, the controller\'s files, the hosts\' journal or provision\'s files there', () => {
    expect(plaintexts.size).toBe(5);
    // The scanner must be able to fail: a known leak is found.
    expect(hits(`x ${Buffer.from([...plaintexts][0]!).toString('hex')} y`)).toHaveLength(1);
    expect(outputs.size).toBeGreaterThanOrEqual(10);
    for (const [name, text] of outputs) expect([name, hits(text)]).toEqual([name, []]);
    expect(hits(fs.readFileSync(planFile, 'utf8'))).toEqual([]);

    // Controller: the repository tree (fixtures, dist), files this run left in /tmp and ~/.cache,
    // and provision's lab state except the hosts' own disks (where the target files are).
    const scanned = controllerFiles(started);
    expect(scanned.length).toBeGreaterThan(50);
    expect(scanned).toContain(path.join('/var/lib/provision/lab/hosts', path.basename(inv), 'sec-1', 'console.log'));
    expect(scanned).toContain(path.resolve(inv, 'secrets/apps.age'));
    const read = (f: string): string => {
      try {
        return fs.readFileSync(f, 'latin1');
      } catch {
        return ''; // gone since (another process's temp file)
      }
    };
    const leaks = scanned.filter((f) => hits(read(f)).length > 0);
    expect(leaks).toEqual([]);

    for (const addr of Object.values(HOSTS)) {
      const journal = on(addr, 'journalctl -o cat --no-pager');
      expect(journal.code).toBe(0);
      expect(journal.stdout.length).toBeGreaterThan(1000);
      expect(hits(journal.stdout)).toEqual([]);
      // provision's own records and the lockout guard's backups (none is made for a secret)
      const own = on(addr, 'if [ -d /var/lib/provision ]; then find /var/lib/provision -type f -exec cat {} +; fi; echo scanned');
      expect(own.stdout).toContain('scanned');
      expect(hits(own.stdout)).toEqual([]);
    }
  });
});
