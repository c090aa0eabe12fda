// Hardening an independent auditor confirms, on a lab host: Debian's ssh-audit, run from the
// controller against the host's sshd, fails it before provision (Debian's defaults offer NIST-curve
// key exchange, SHA-1 and 64-bit-tag MACs) and finds nothing after apply but algorithms it does not
// know; OpenSSH still logs in with its defaults, a client offering only what was removed is refused,
// and sshd -T shows the lists in effect. A no-op plan stays one exec.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { cliJson, ssh, LAB_KEY } from './helpers.js';
import { labFleet } from '../../src/cli/commands/lab-main.js';
import { labUp, labDown } from '../../src/lab/index.js';
import { SSH_CRYPTO } from '../../roles/base/sshd.js';

const inv = 'test/fixtures/e2e/hardening';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const HOST = '10.213.96.11';

/** ssh-audit's findings (fail and warn lines) for the host's sshd; the whole report for messages */
function sshAudit(): { findings: string[]; report: string } {
  const r = spawnSync('ssh-audit', ['-n', HOST], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  const report = `${r.stdout}${r.stderr}`;
  expect(report).toMatch(/# general/); // it did reach the server
  return { findings: report.split('\n').filter((l) => /\[(fail|warn)\]/.test(l)), report };
}

/** an OpenSSH login offering only the given algorithms of one kind */
const loginWith = (option: string, value: string) =>
  spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes', '-i', LAB_KEY, '-o', `${option}=${value}`, `root@${HOST}`, 'true'], {
    encoding: 'utf8',
    timeout: 30_000,
  });

let before: string[] = [];

beforeAll(async () => {
  const fleet = labFleet(inv);
  await labDown(fleet, () => {}, { wipe: true });
  await labUp(fleet, { installDeps: !!process.env.CI }, () => {});
  before = sshAudit().findings;
  const r = cliJson(['apply', inv, '--playbook', playbook, '--connect-timeout', '4']);
  expect(r.data.hosts.map((h) => [h.host, h.result, h.error])).toEqual([['hard-1', 'changed', undefined]]);
}, 900_000);

afterAll(async () => {
  await labDown(labFleet(inv), () => {}, { wipe: true });
}, 300_000);

describe('SSH cryptography, audited', () => {
  test('before provision ssh-audit fails Debian defaults; after apply it finds nothing but algorithms it does not know', () => {
    // the check can fail: a fresh Debian sshd offers NIST-curve key exchange
    expect(before.join('\n')).toMatch(/ecdh-sha2-nistp256.*\[fail\]/);
    const { findings, report } = sshAudit();
    // Debian 12's ssh-audit 2.5.0 predates OpenSSH's own default (since 9.0) of the post-quantum
    // hybrid and calls it "experimental": kept on purpose (docs/hardening.md), so that one line is allowed
    const real = findings.filter((l) => !/unknown algorithm/.test(l) && !/^\(kex\) sntrup761x25519-sha512@openssh\.com +-- \[warn\] using experimental algorithm$/.test(l));
    expect({ real, report }).toEqual({ real: [], report });
  });

  test('sshd -T has the lists in effect; compression is off', () => {
    const out = ssh(HOST, '/usr/sbin/sshd -T -C user=root,host=t,addr=10.213.96.1', { knownHosts }).stdout;
    expect(out).toContain(`\nkexalgorithms ${SSH_CRYPTO.KexAlgorithms.join(',')}\n`);
    expect(out).toContain(`\nciphers ${SSH_CRYPTO.Ciphers.join(',')}\n`);
    expect(out).toContain(`\nmacs ${SSH_CRYPTO.MACs.join(',')}\n`);
    expect(out).toContain(`\nhostkeyalgorithms ${SSH_CRYPTO.HostKeyAlgorithms.join(',')}\n`);
    expect(out).toContain('\ncompression no\n');
  });

  test('OpenSSH with its defaults logs in; offering only a removed algorithm is refused', () => {
    expect(ssh(HOST, 'id -u', { knownHosts }).stdout).toBe('0\n');
    const nist = loginWith('KexAlgorithms', 'ecdh-sha2-nistp256');
    expect(nist.status).not.toBe(0);
    expect(nist.stderr).toMatch(/no matching key exchange method/);
    const cbc = loginWith('Ciphers', 'aes128-ctr');
    expect(cbc.stderr).toMatch(/no matching cipher/);
    const sha1 = loginWith('HostKeyAlgorithms', 'ssh-rsa');
    expect(sha1.stderr).toMatch(/no matching host key type/);
  });

  test('the controller (ssh2) still connects: a no-op plan is one exec', () => {
    const r = cliJson(['plan', inv, '--playbook', playbook, '--connect-timeout', '4']);
    expect(r.code).toBe(0);
    expect(r.data.hosts.map((h) => [h.host, h.changes.length, h.execs])).toEqual([['hard-1', 0, 1]]);
  });
});

