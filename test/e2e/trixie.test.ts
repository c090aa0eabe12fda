// Debian 13 (trixie) hosts: the bastion and the monitoring host of the site on trixie (the drand
// node and HTTP relay run trixie in inventory/lab, covered by site.test.ts; each role on each
// release once keeps CI short). Checked on the hosts: the release, sshd's configuration in effect
// under OpenSSH 10, unattended-upgrades' security origin, the log collector receiving, and a plan
// that fails when the inventory pins another release.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { cli, cliJson, ssh, repo, useFleet } from './helpers.js';
import { sshCrypto } from '../../roles/base/sshd.js';

const inv = 'test/fixtures/e2e/trixie';
const knownHosts = path.resolve(inv, 'known_hosts');
const BASTION = '10.213.95.10';
const MONITOR = '10.213.95.30';
const LIMIT = ['--limit', 'bastion-1:monitor-1'];
const onMonitor = (cmd: string) => ssh(MONITOR, cmd, { knownHosts, via: BASTION });
// the inventory holds the whole site layout; this file boots two hosts
useFleet(inv, { only: (name) => name === 'bastion-1' || name === 'monitor-1' });

describe('the site roles on Debian 13', () => {
  test('the hosts run trixie; apply converges them; a second apply changes nothing in one exec', () => {
    for (const run of [(c: string) => ssh(BASTION, c, { knownHosts }), onMonitor]) {
      expect(run('. /etc/os-release; echo "$VERSION_ID $VERSION_CODENAME"').stdout.trim()).toBe('13 trixie');
    }
    const first = cliJson(['apply', inv, ...LIMIT]);
    for (const h of first.data.hosts) expect([h.host, h.result, h.error]).toEqual([h.host, 'changed', undefined]);
    expect(first.code).toBe(0);
    const second = cliJson(['apply', inv, ...LIMIT]);
    expect(second.code).toBe(0);
    expect(second.data.hosts.map((h) => [h.host, h.result, h.execs])).toEqual([
      ['bastion-1', 'unchanged', 1],
      ['monitor-1', 'unchanged', 1],
    ]);
  });

  test('OpenSSH 10 runs the roles\' configuration: key-only logins, operators with key and TOTP', () => {
    expect(ssh(BASTION, 'ssh -V 2>&1', { knownHosts }).stdout).toMatch(/^OpenSSH_10\./);
    const cfg = ssh(BASTION, 'sshd -t && sshd -T', { knownHosts });
    expect(cfg.code).toBe(0);
    expect(cfg.stdout).toMatch(/^passwordauthentication no$/m);
    expect(cfg.stdout).toMatch(/^authenticationmethods publickey$/m);
    expect(cfg.stdout).toMatch(/^kbdinteractiveauthentication no$/m);
    // AllowGroups (CIS 5.1.4) as OpenSSH 10 reads it: the controller's group and the bastion's operators
    expect(cfg.stdout.split('\n').filter((l) => l.startsWith('allowgroups '))).toEqual(['allowgroups ssh-users', 'allowgroups operators']);
    expect(ssh(BASTION, 'id -nG root', { knownHosts }).stdout.trim().split(' ')).toContain('ssh-users');
    // the release's own choice (ctx.release): OpenSSH 10's ML-KEM hybrid first, in effect; Debian 12
    // hosts offer the list without it (in-effect.test.ts checks sshd -T there)
    expect(cfg.stdout).toContain(`\nkexalgorithms ${sshCrypto('debian-13').KexAlgorithms.join(',')}\n`);
    expect(cfg.stdout).toMatch(/^kexalgorithms mlkem768x25519-sha256,sntrup761x25519-sha512@openssh\.com,/m);
    // an operator gets the bastion role's Match block: key AND TOTP (libpam-google-authenticator on trixie)
    const op = ssh(BASTION, 'sshd -T -C user=alice,host=x,addr=10.213.95.1', { knownHosts }).stdout;
    expect(op).toMatch(/^authenticationmethods publickey,keyboard-interactive$/m);
    expect(ssh(BASTION, 'grep -c pam_google_authenticator.so /etc/pam.d/sshd', { knownHosts }).stdout.trim()).toBe('1');
    // a password is refused by the running daemon, not only by its configuration
    const pw = ssh(BASTION, 'true', { knownHosts, password: true });
    expect(pw.code).not.toBe(0);
    expect(pw.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  test('unattended-upgrades takes trixie-security updates, nothing else', () => {
    const out = onMonitor('unattended-upgrade --dry-run -d 2>&1 | grep "^Allowed origins"').stdout.trim();
    expect(out).toBe('Allowed origins are: origin=Debian,codename=trixie-security,label=Debian-Security, origin=Debian,codename=trixie,label=Debian-Security');
    expect(onMonitor('apt-cache policy | grep -c "n=trixie-security"').stdout.trim()).not.toBe('0');
  });

  test('the log collector on trixie receives the bastion\'s logs', () => {
    const tag = `trixie-e2e-${Date.now()}`;
    ssh(BASTION, `logger -t provision-e2e ${tag}`, { knownHosts });
    // The bastion's rsyslog started forwarding before the collector listened (bastions converge
    // first) and retries a suspended action every 30 s (rsyslog's resumeInterval): wait that long.
    const found = onMonitor(`for i in $(seq 80); do grep -h ${tag} /var/log/remote/bastion-1.log 2>/dev/null && break; sleep 0.5; done`).stdout;
    expect(found).toContain(`provision-e2e: ${tag}`);
  });

  test('a host pinned to debian-12 that runs trixie fails its plan, naming both; the other plans', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-trixie-pin-'));
    try {
      fs.cpSync(path.join(repo, inv), tmp, { recursive: true });
      const hosts = path.join(tmp, 'hosts.yaml');
      fs.writeFileSync(hosts, fs.readFileSync(hosts, 'utf8').replace('monitor-1: { address: 10.213.95.30,', 'monitor-1: { spec: { os: debian-12 }, address: 10.213.95.30,'));
      const r = cliJson(['plan', tmp, ...LIMIT]);
      expect(r.code).toBe(1);
      const byHost = new Map(r.data.hosts.map((h) => [h.host, h]));
      expect(byHost.get('monitor-1')!.error).toContain('the inventory pins spec.os debian-12, but the host runs debian-13 (Debian GNU/Linux 13 (trixie))');
      expect(byHost.get('bastion-1')!.error).toBeUndefined();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
