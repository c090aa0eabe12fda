// The site playbook on the lab fleet (bastion, monitoring host, three drand nodes, HTTP relay,
// snapshot server), checked on the hosts themselves: hardened sshd, default-deny firewall with the
// allowlists the roles declare, drand's gRPC port open only to its peers, the health endpoint, the
// snapshot jobs of the hosts with state, and the lockout guard.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { cli, cliJson, ssh, repo, useFleet } from './helpers.js';

const inv = 'inventory/lab';
const knownHosts = path.resolve(inv, 'known_hosts');
const BASTION = '10.213.7.10';
const MONITOR = '10.213.7.30';
const DRAND = ['10.213.7.21', '10.213.7.22', '10.213.7.23'] as const;
const RELAY = '10.213.7.41';
const SNAP = '10.213.7.50';
const viaBastion = (addr: string, cmd: string) => ssh(addr, cmd, { knownHosts, via: BASTION });

/** Can this machine (the controller) open a TCP connection? */
function tcpOpen(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

/** From a lab host: can it open a TCP connection to addr:port? (bash's /dev/tcp, 3 s) */
const probeFrom = (from: string, to: string, port: number) =>
  (from === BASTION ? ssh(from, cmdTcp(to, port), { knownHosts }) : viaBastion(from, cmdTcp(to, port))).stdout.trim();
const cmdTcp = (to: string, port: number) => `timeout 3 bash -c 'exec 3<>/dev/tcp/${to}/${port}' 2>/dev/null && echo open || echo closed`;

/** A copy of the lab inventory to break in one way (same hosts, same known_hosts, same key). */
function copyLab(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-lab-copy-'));
  fs.cpSync(path.join(repo, inv), tmp, { recursive: true });
  return tmp;
}

useFleet(inv);

describe('site playbook on the lab fleet', () => {
  test('check passes offline, then apply converges every host', () => {
    expect(cli(['check', inv]).code).toBe(0);
    const r = cliJson(['apply', inv]);
    for (const h of r.data.hosts) {
      expect({ host: h.host, result: h.result, error: h.error }).toEqual({ host: h.host, result: 'changed', error: undefined });
    }
    expect(r.code).toBe(0);
  });

  test('a mixed fleet: drand-3 and relay-1 run Debian 13, the others Debian 12', () => {
    const release = (addr: string) => viaBastion(addr, '. /etc/os-release; echo "$VERSION_ID $VERSION_CODENAME"').stdout.trim();
    expect([...DRAND, RELAY, MONITOR, SNAP].map(release)).toEqual(['12 bookworm', '12 bookworm', '13 trixie', '13 trixie', '12 bookworm', '12 bookworm']);
    expect(ssh(BASTION, 'ssh -V 2>&1', { knownHosts }).stdout).toMatch(/^OpenSSH_9\.2/);
    expect(viaBastion(DRAND[2], 'ssh -V 2>&1').stdout).toMatch(/^OpenSSH_10\./);
  });

  test('a second apply changes nothing, one exec per host', () => {
    const r = cliJson(['apply', inv]);
    expect(r.code).toBe(0);
    for (const h of r.data.hosts) expect([h.host, h.result, h.execs]).toEqual([h.host, 'unchanged', 1]);
  });

  test('a hand edit to drand.service on one node: the plan shows the restart it causes, apply restarts that drand only', () => {
    const mainPid = (addr: string) => Number(viaBastion(addr, 'systemctl show -p MainPID --value drand').stdout.trim());
    const before = DRAND.map(mainPid);
    expect(before.every((p) => p > 0)).toBe(true);
    viaBastion(DRAND[0], 'echo "# edited by hand" >> /etc/systemd/system/drand.service');
    const plan = cli(['plan', inv]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^ {2}then: restart drand \(service drand will restart\) ← systemd-unit:drand\.service$/m);
    // seven hosts, one change: the others are one line each, their shared skips listed once
    expect(plan.stdout.match(/^● [a-z0-9-]+: no changes/gm)).toHaveLength(6);
    expect(plan.stdout).toMatch(/^skipped on all 7 hosts:\n( {2}.*\n)* {2}apt:auditd, .*service:auditd — auditd cannot run in a container/m);
    expect(plan.stdout).not.toMatch(/· skip/);
    expect(plan.stdout).toMatch(/^Plan: 1 change on 1 of 7 hosts, 1 service restart$/m);
    const r = cliJson<{ hosts: { host: string; result: string; handlers: { name: string; notifiedBy: string[] }[] }[] }>(['apply', inv]);
    expect(r.code).toBe(0);
    expect(r.data.hosts.filter((h) => h.handlers.length).map((h) => [h.host, h.handlers.map((x) => [x.name, x.notifiedBy])])).toEqual([
      ['drand-1', [['restart drand', ['systemd-unit:drand.service']]]],
    ]);
    const after = DRAND.map(mainPid);
    expect(after[0]).toBeGreaterThan(0);
    expect(after[0]).not.toBe(before[0]);
    expect(after.slice(1)).toEqual(before.slice(1));
  });

  test('sshd refuses password and keyboard-interactive logins on the bastion', () => {
    for (const user of ['root', 'alice']) {
      const r = ssh(BASTION, 'true', { knownHosts, user, password: true });
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    }
    const cfg = ssh(BASTION, 'sshd -T', { knownHosts }).stdout;
    expect(cfg).toMatch(/^passwordauthentication no$/m);
    expect(cfg).toMatch(/^x11forwarding no$/m);
    expect(cfg).toMatch(/^maxauthtries 3$/m);
  });

  test('the bastion asks operators for key AND TOTP, and gives them no sudo', () => {
    const op = ssh(BASTION, 'sshd -T -C user=alice,host=x,addr=10.213.7.1', { knownHosts }).stdout;
    expect(op).toMatch(/^authenticationmethods publickey,keyboard-interactive$/m);
    expect(ssh(BASTION, 'id -nG alice', { knownHosts }).stdout.trim().split(' ')).not.toContain('sudo');
    expect(ssh(BASTION, 'grep -c pam_google_authenticator.so /etc/pam.d/sshd', { knownHosts }).stdout.trim()).toBe('1');
  });

  test('drand nodes: no SSH from the controller directly, SSH through the bastion works', async () => {
    for (const addr of DRAND) {
      expect(await tcpOpen(addr, 22)).toBe(false);
      const r = viaBastion(addr, 'hostname');
      expect(r.code).toBe(0);
    }
    expect(await tcpOpen(BASTION, 22)).toBe(true);
  });

  test("a drand node's gRPC port answers only the other drand nodes", async () => {
    expect(probeFrom(DRAND[1], DRAND[0], 4444)).toBe('open');
    expect(probeFrom(DRAND[2], DRAND[0], 4444)).toBe('open');
    expect(probeFrom(MONITOR, DRAND[0], 4444)).toBe('closed');
    expect(probeFrom(BASTION, DRAND[0], 4444)).toBe('closed');
    expect(await tcpOpen(DRAND[0], 4444)).toBe(false);
    // the daemon is listening on it (so "closed" above is the firewall, not a dead port)
    expect(viaBastion(DRAND[0], 'ss -Hltn "sport = :4444"').stdout).toContain(`${DRAND[0]}:4444`);
  });

  test('control port on localhost only; metrics only for monitoring; /health answers', async () => {
    const control = viaBastion(DRAND[0], 'ss -Hltn "sport = :8888"').stdout;
    expect(control).toContain('127.0.0.1:8888');
    expect(control).not.toContain('0.0.0.0:8888');
    expect(probeFrom(MONITOR, DRAND[0], 9080)).toBe('open');
    expect(probeFrom(DRAND[1], DRAND[0], 9080)).toBe('closed');
    expect(probeFrom(MONITOR, DRAND[0], 9100)).toBe('open'); // node exporter
    expect(probeFrom(BASTION, DRAND[0], 9100)).toBe('closed');
    const health = viaBastion(DRAND[0], 'curl -fsS -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/health');
    expect(health.stdout).toBe('200');
    const unit = viaBastion(DRAND[0], 'systemctl show drand -p User -p NoNewPrivileges -p ProtectSystem -p ReadWritePaths').stdout;
    expect(unit).toMatch(/^User=drand$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/drand$/m);
  });

  test("a node's logs are shipped off the host, to the log collector", async () => {
    const marker = `provision-e2e-${Date.now()}`;
    expect(viaBastion(DRAND[1], `logger -t provision-e2e ${marker}`).code).toBe(0);
    let found = '';
    for (let i = 0; i < 20 && !found.includes(marker); i++) {
      await new Promise((r) => setTimeout(r, 500));
      found = viaBastion(MONITOR, `grep -h ${marker} /var/log/remote/drand-2.log 2>/dev/null || true`).stdout;
    }
    expect(found).toContain(marker);
    // only the fleet may send: the controller cannot reach the collector's port
    expect(await tcpOpen(MONITOR, 514)).toBe(false);
  });

  test('the HTTP relay serves the beacon from its drand node, to its allowlist only', async () => {
    // The controller is the relay's allowlisted "CDN" in the lab.
    const res = await fetch(`http://${RELAY}:8081/info`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    const info = (await res.json()) as { period?: number; hash?: string };
    expect(typeof info.hash).toBe('string');
    expect(probeFrom(MONITOR, RELAY, 8081)).toBe('closed');
    // the relay reaches its node's gRPC port; the node lets the relay in, as it does the other nodes
    expect(probeFrom(RELAY, DRAND[0], 4444)).toBe('open');
  });

  test('every host with state has its snapshot job; `provision snapshot` of a drand node lands on the snapshot server', () => {
    // the timers of the drand nodes and the bastion; none on the hosts without state
    for (const addr of DRAND) expect(viaBastion(addr, 'systemctl is-active provision-snapshot.timer').stdout.trim()).toBe('active');
    expect(ssh(BASTION, 'systemctl is-active provision-snapshot.timer', { knownHosts }).stdout.trim()).toBe('active');
    expect(viaBastion(MONITOR, 'systemctl is-active provision-snapshot.timer').stdout.trim()).toBe('inactive');
    expect(viaBastion(SNAP, 'systemctl is-active snapshot-sshd provision-snapshot-forget.timer provision-snapshot-check.timer').stdout.trim().split('\n')).toEqual(['active', 'active', 'active']);
    const r = cli(['snapshot', inv, 'drand-1']);
    expect(r.code === 0 ? '' : r.stdout + r.stderr).toBe('');
    const id = /^drand-1: snapshot ([0-9a-f]{8}) at /m.exec(r.stdout)?.[1];
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    // that snapshot is in drand-1's repository on the server, and drand runs again after its stop
    const listed = JSON.parse(viaBastion(SNAP, 'runuser -u restic -- provision-snapshot-server list drand-1').stdout) as { short_id: string }[];
    expect(listed.map((s) => s.short_id)).toContain(id);
    expect(viaBastion(DRAND[0], 'systemctl is-active drand').stdout.trim()).toBe('active');
  }, 300_000);

  test('sizing: an undersized host fails in plan with what it has and what the role needs', () => {
    const tmp = copyLab();
    fs.writeFileSync(path.join(tmp, 'hosts.yaml'), fs.readFileSync(path.join(tmp, 'hosts.yaml'), 'utf8').replace('relay-1:    { address: 10.213.7.41, jump: bastion-1, spec: { os: debian-13 } }', 'relay-1:    { address: 10.213.7.41, jump: bastion-1, sizing: enforce, spec: { os: debian-13, memoryGiB: 32 } }'));
    const r = cliJson(['plan', tmp, '--limit', 'relay-1']);
    expect(r.code).toBe(1);
    expect(r.data.hosts[0]!.error).toMatch(/undersized for role drand-http-relay: needs ≥ 30 GiB memory, has \d+(\.\d+)? GiB memory/);
    // warn (the lab's default) reports instead of refusing
    expect(cliJson(['plan', inv, '--limit', 'relay-1']).code).toBe(0);
  });

  test('lockout guard: a change that would shut the controller out is rolled back', () => {
    // A copy of the lab inventory where drand-3 would accept SSH only from an address nobody has.
    const tmp = copyLab();
    fs.mkdirSync(path.join(tmp, 'host_vars'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'host_vars/drand-3.yaml'), 'base:\n  ssh_from: [10.213.7.99]\n');
    const files = 'sha256sum /etc/ssh/sshd_config.d/10-provision.conf /etc/nftables.conf';
    const before = viaBastion(DRAND[2], files).stdout;
    expect(before).toContain('/etc/nftables.conf');

    const r = cliJson(['apply', tmp, '--limit', 'drand-3']);
    expect(r.code).toBe(1);
    const d3 = r.data.hosts.find((h) => h.host === 'drand-3')!;
    expect(d3.result).toBe('failed');
    expect(d3.error).toMatch(/lockout guard: after .* a fresh SSH login failed .*the previous files were restored and reloaded/);

    // The host is as before: same files, still reachable, and the real inventory sees no change.
    expect(viaBastion(DRAND[2], files).stdout).toBe(before);
    expect(viaBastion(DRAND[2], 'hostname').code).toBe(0);
    const plan = cliJson(['plan', inv, '--limit', 'drand-3']);
    expect(plan.code).toBe(0);
  });
});
