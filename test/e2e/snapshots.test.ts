// Snapshots and rebuilds on one small fleet (test/fixtures/e2e-snap): srv-1 the snapshot server,
// bast-1 a bastion that also carries a test role whose state is a dump command, node-1 a drand
// node (the stand-in) behind it. Checked on the hosts: the job's snapshots land on the server;
// root on a client cannot forget or delete them; a failed job leaves its unit failed and its
// metric stale; a wrong host-key fingerprint touches nothing; after `lab reset` (the machine is
// lost) `provision rebuild` brings back the drand node's key byte for byte with /health answering
// and its HTTP relay (on srv-1) serving its chain again, and the bastion's operator logs in with
// key + the same TOTP secret. Rebuild times are printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { NodeSSH } from 'node-ssh';
import { cli, cliJson, ssh, useFleet } from './helpers.js';

const inv = 'test/fixtures/e2e-snap';
const PB = ['--playbook', `${inv}/playbook.yaml`];
const knownHosts = path.resolve(inv, 'known_hosts');
const SRV = '10.213.90.10';
const BAST = '10.213.90.11';
const NODE = '10.213.90.21';
const KEY = '/var/lib/drand/multibeacon/default/key/drand_id.public';
const onSrv = (c: string) => ssh(SRV, c, { knownHosts });
const onBast = (c: string) => ssh(BAST, c, { knownHosts });
const onNode = (c: string) => ssh(NODE, c, { knownHosts, via: BAST });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-snap-e2e-'));
const opKey = path.join(tmp, 'alice');
const hostVars = path.resolve(inv, 'host_vars/bast-1.yaml');
// base32 TOTP secret of the operator (what google-authenticator writes on enrolment)
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const totpSecret = [...randomBytes(16)].map((b) => B32[b & 31]).join('');

function totp(secret: string, at = Date.now()): string {
  const bits = [...secret].map((c) => B32.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[19]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** alice's login to the bastion with her key and a TOTP code (keyboard-interactive); her `id -un`. */
async function operatorLogin(code: string): Promise<string> {
  const known = fs.readFileSync(knownHosts, 'utf8').split('\n').find((l) => l.startsWith(`${BAST} `))!.split(/\s+/)[2]!;
  const c = new NodeSSH();
  try {
    await c.connect({
      host: BAST, username: 'alice', privateKey: fs.readFileSync(opKey, 'utf8'), tryKeyboard: true, readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => key.toString('base64') === known,
      onKeyboardInteractive: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (r: string[]) => void) => finish(prompts.map(() => code)),
    } as Parameters<NodeSSH['connect']>[0]);
    return (await c.execCommand('id -un')).stdout.trim();
  } finally {
    c.dispose();
  }
}

/** `lab reset HOST`: the machine is lost; the new one's fingerprint as the lab prints it. */
function loseHost(name: string): string {
  const r = cli(['lab', 'reset', inv, name]);
  expect(r.code).toBe(0);
  return /--fingerprint (SHA256:\S+)/.exec(r.stdout)![1]!;
}

/** GET from node-1's HTTP relay on srv-1 (the controller is its allowlisted "CDN"): status and body. */
async function relay(p: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://${SRV}:8081${p}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { status: 0, body: String(e) };
  }
}

const snapshotIds = (out: string): Record<string, string> =>
  Object.fromEntries([...out.matchAll(/^(\S+): snapshot ([0-9a-f]{8}) at /gm)].map((m) => [m[1]!, m[2]!]));

beforeAll(() => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@e2e-snap', '-f', opKey]);
  fs.mkdirSync(path.dirname(hostVars), { recursive: true });
  fs.writeFileSync(hostVars, `# written by test/e2e/snapshots.test.ts (a key made for this run)\nbastion:\n  operators:\n    - name: alice\n      keys: ["${fs.readFileSync(`${opKey}.pub`, 'utf8').trim()}"]\n  allow_from: [10.213.90.1/32]\n`);
});
useFleet(inv, {
  done: () => {
    fs.rmSync(hostVars, { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  },
});

describe('snapshots and rebuild', () => {
  test('the fleet converges; before any snapshot a rebuild stops with a clear error and changes nothing', () => {
    const first = cliJson(['apply', inv, ...PB]);
    for (const h of first.data.hosts) expect([h.host, h.result, h.error]).toEqual([h.host, 'changed', undefined]);
    const second = cliJson(['apply', inv, ...PB]);
    expect(second.data.hosts.map((h) => [h.host, h.result, h.execs])).toEqual([['srv-1', 'unchanged', 1], ['bast-1', 'unchanged', 1], ['node-1', 'unchanged', 1]]);
    // the server's own sshd for snapshots, the job's timer on each client
    expect(onSrv('systemctl is-active snapshot-sshd provision-snapshot-forget.timer provision-snapshot-check.timer').stdout.trim().split('\n')).toEqual(['active', 'active', 'active']);
    expect(onNode('systemctl is-active provision-snapshot.timer').stdout.trim()).toBe('active');
    const none = cli(['rebuild', inv, 'node-1', ...PB]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no snapshot of node-1 on srv-1: nothing to rebuild from (nothing was changed)');
  }, 600_000);

  test('provision snapshot: each host\'s id, the state on the server, the last success as a node exporter metric', () => {
    // the stand-in holds no keys: the test writes the node's public key file, and the operator's TOTP secret
    onNode(`printf 'drand public key %s\\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n')" > ${KEY} && chown drand:drand ${KEY}`);
    onBast(`printf '%s\\n" TOTP_AUTH\\n' ${totpSecret} > /home/alice/.google_authenticator && chown alice:alice /home/alice/.google_authenticator && chmod 400 /home/alice/.google_authenticator && echo entry-1 > /var/lib/ledger/entries`);
    const r = cli(['snapshot', inv, 'bast-1:node-1', ...PB]);
    expect(r.code).toBe(0);
    const ids = snapshotIds(r.stdout);
    expect(Object.keys(ids).sort()).toEqual(['bast-1', 'node-1']);
    // the server's repository of node-1 has that snapshot, with the declared paths
    const listed = JSON.parse(onSrv('runuser -u restic -- provision-snapshot-server list node-1').stdout) as { short_id: string; paths: string[] }[];
    expect(listed.map((s) => s.short_id)).toEqual([ids['node-1']]);
    expect(listed[0]!.paths).toEqual(['/var/lib/drand/multibeacon/default/db', '/var/lib/drand/multibeacon/default/groups', '/var/lib/drand/multibeacon/default/key']);
    // the dump-command state: the dump file is in bast-1's snapshot, with the entry in it
    const dump = JSON.parse(onSrv('runuser -u restic -- provision-snapshot-server list bast-1').stdout) as { paths: string[] }[];
    expect(dump[0]!.paths).toEqual(['/var/backups/ledger/ledger.tar', '/home/alice/.google_authenticator'].sort());
    expect(onBast('tar -xOf /var/backups/ledger/ledger.tar ./entries').stdout).toBe('entry-1\n');
    // drand was stopped for the snapshot and started again
    expect(onNode('systemctl is-active drand').stdout.trim()).toBe('active');
    const metric = onNode(`curl -s ${NODE}:9100/metrics | grep '^provision_snapshot_last_success_timestamp_seconds'`).stdout;
    expect(Math.abs(Number(metric.trim().split(' ')[1]) - Date.now() / 1000)).toBeLessThan(120);
  }, 300_000);

  test('as root on a client, deleting or forgetting its own snapshots fails and the history is intact', () => {
    const before = onSrv('ls /srv/restic/node-1/snapshots').stdout;
    const id = onNode('provision-snapshot latest').stdout.match(/"short_id":"([0-9a-f]+)"/)![1]!;
    const restic = 'env RESTIC_PASSWORD_FILE=/etc/provision/snapshot/password restic -r rclone:node-1 -o rclone.program=/usr/local/lib/provision-snapshot/ssh';
    const forget = onNode(`timeout 120 ${restic} forget ${id} 2>&1; echo "exit=$?"`);
    expect(forget.stdout).toMatch(/403 Forbidden/);
    expect(forget.stdout).not.toMatch(/exit=0$/m);
    // the key is forced into rclone: any other command, e.g. removing the repository, is not run
    onNode(`ssh -T -F none -i /etc/provision/snapshot/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=/etc/provision/snapshot/known_hosts -p 2222 restic@${SRV} 'rm -rf /srv/restic/node-1' </dev/null`);
    expect(onSrv('ls /srv/restic/node-1/snapshots').stdout).toBe(before);
    expect(onNode(`${restic} snapshots --json`).stdout).toContain(id);
    // the server's own check of the repositories passes
    expect(onSrv('systemctl start provision-snapshot-check.service; systemctl is-failed provision-snapshot-check.service').stdout.trim()).toBe('inactive');
  }, 300_000);

  test('a job that cannot reach the repository fails visibly: unit failed, metric unchanged (stale)', () => {
    const metric = () => onBast('cat /var/lib/prometheus/node-exporter/provision_snapshot.prom | grep ^provision').stdout;
    const before = metric();
    onSrv('systemctl stop snapshot-sshd');
    try {
      const r = cli(['snapshot', inv, 'bast-1', ...PB]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('bast-1: FAILED');
      expect(onBast('systemctl is-failed provision-snapshot.service').stdout.trim()).toBe('failed');
      expect(metric()).toBe(before);
    } finally {
      onSrv('systemctl start snapshot-sshd');
    }
  }, 300_000);

  test('drand node lost: a wrong fingerprint is refused with nothing touched; the right one rebuilds it, key byte-identical, /health answers, its relay serves again', async () => {
    const key = onNode(`sha256sum ${KEY}`).stdout;
    expect(key).toMatch(/^[0-9a-f]{64} /);
    // the relay serves node-1's chain before the loss
    const info = await relay('/info');
    expect(info.status).toBe(200);
    const chain = JSON.parse(info.body) as { public_key: string; hash: string };
    expect(chain.public_key).toMatch(/^[0-9a-f]{96,}$/);
    expect((await relay('/health')).status).toBe(200);
    const fp = loseHost('node-1');
    // with its node lost the relay has nothing to serve: its answers come from the node
    expect((await relay('/health')).status).not.toBe(200);
    const wrong = cli(['rebuild', inv, 'node-1', ...PB, '--fingerprint', 'SHA256:' + 'A'.repeat(43)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`refused before any change — HOST KEY CHANGED for node-1`);
    expect(wrong.stderr).toContain(`presented ssh-ed25519 ${fp}`);
    // nothing touched: the new machine has none of the roles' work (read with the lab's record of its key)
    const resetKnown = '/var/lib/provision/lab/hosts/e2e-snap/node-1/known_hosts.reset';
    expect(ssh(NODE, 'test -e /etc/provision || command -v restic || echo untouched', { knownHosts: resetKnown, via: BAST }).stdout.trim()).toBe('untouched');

    const t0 = Date.now();
    const r = cli(['rebuild', inv, 'node-1', ...PB, '--fingerprint', fp]);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code === 0 ? '' : r.stdout + r.stderr).toBe('');
    expect(r.stdout).toMatch(/rebuild node-1: done in [0-9.]+ s .* from snapshot [0-9a-f]{8} /);
    process.stdout.write(`snapshots e2e: drand node rebuild ${seconds.toFixed(1)} s\n`);
    expect(onNode(`sha256sum ${KEY}`).stdout).toBe(key);
    expect(onNode('stat -c %U:%a ' + KEY).stdout.trim()).toBe('drand:644');
    expect(onNode('curl -fsS -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/health').stdout).toBe('200');
    // the relay serves the rebuilt node's chain again: the same chain info, the same public key
    let health = await relay('/health');
    for (let i = 0; i < 10 && health.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      health = await relay('/health');
    }
    expect(health.status).toBe(200);
    const again = await relay('/info');
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual(JSON.parse(info.body));
    const latest = await relay('/public/latest');
    expect(latest.status).toBe(200);
    expect((JSON.parse(latest.body) as { round: number }).round).toBeGreaterThan(0);
    const plan = cliJson(['plan', inv, ...PB, '--limit', 'node-1']);
    expect(plan.data.hosts.map((h) => [h.host, h.changes.length, h.execs])).toEqual([['node-1', 0, 1]]);
  }, 600_000);

  test('bastion lost: after the rebuild the operator logs in with key + the same TOTP secret', async () => {
    expect(await operatorLogin(totp(totpSecret))).toBe('alice');
    await expect(operatorLogin('000000' === totp(totpSecret) ? '111111' : '000000')).rejects.toThrow();
    const fp = loseHost('bast-1');
    const t0 = Date.now();
    const r = cli(['rebuild', inv, 'bast-1', ...PB, '--fingerprint', fp]);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code === 0 ? '' : r.stdout + r.stderr).toBe('');
    process.stdout.write(`snapshots e2e: bastion rebuild ${seconds.toFixed(1)} s\n`);
    // the dump-command state came back through its restore command
    expect(onBast('cat /var/lib/ledger/entries').stdout).toBe('entry-1\n');
    // a new 30 s window: the restored secret, not a replayed code
    await new Promise((res) => setTimeout(res, 31_000 - (Date.now() % 30_000)));
    expect(await operatorLogin(totp(totpSecret))).toBe('alice');
  }, 600_000);
});
