// "Converged" means the configuration in effect, on lab hosts: node-1 (login root, base + a
// hardened fixture daemon) and ops-1 (login user ops with sudo, as production does; base). Each
// foreign override — a unit drop-in running the daemon as root with its sandbox off, one
// replacing ExecStart, an sshd_config.d file sorting before the role's, a sudoers NOPASSWD grant —
// a PAM line skipping the bastion's TOTP step —
// is seen by plan (exit 2, with what it sets and what the role requires) and undone by apply,
// checked on the host: systemctl show, the daemon's user, sshd -T, a root login, sudo -l, and the
// file waiting in the quarantine folder the plan named.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test, expect } from '@jest/globals';
import { cliJson, ssh, LAB_KEY, useFleet } from './helpers.js';
import { sh } from '../../src/shell/quote.js';
import { sshCrypto } from '../../roles/base/sshd.js';

const inv = 'test/fixtures/e2e/in-effect';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const NODE = '10.213.93.11';
const OPS = '10.213.93.12';
const onNode = (cmd: string) => ssh(NODE, cmd, { knownHosts });
/** ops-1 refuses root logins once converged: the sudo user, as the controller itself does */
const onOps = (cmd: string) => ssh(OPS, `sudo -n sh -c ${sh(cmd)}`, { knownHosts, user: 'ops' });

interface Host {
  host: string;
  result: string;
  execs: number;
  error?: string;
  changes: { id: string; summary: string; diff?: string }[];
}
const run = (cmd: 'plan' | 'apply') => cliJson<{ hosts: Host[] }>([cmd, inv, '--playbook', playbook, '--connect-timeout', '4']);
const byHost = (r: { data: { hosts: Host[] } }, name: string): Host => r.data.hosts.find((h) => h.host === name)!;
/** the quarantine paths a plan names for its foreign files */
const named = (h: Host): string[] => h.changes.flatMap((c) => [...(c.diff ?? '').matchAll(/→ apply moves it to (\S+)/g)].map((m) => m[1]!));
const DAEMON_PROPS = 'systemctl show -p User,ProtectSystem,NoNewPrivileges,DropInPaths e2e-daemon';
const daemonUser = 'ps -o user=,args= -p "$(systemctl show -p MainPID --value e2e-daemon)"';

function expectEmptyPlan(): void {
  const r = run('plan');
  expect(r.code).toBe(0);
  for (const h of r.data.hosts) expect([h.host, h.changes.length, h.execs]).toEqual([h.host, 0, 1]);
}

useFleet(inv, {
  ready: () => {
    const r = run('apply');
    expect(r.data.hosts.map((h) => [h.host, h.result, h.error])).toEqual([
      ['node-1', 'changed', undefined],
      ['ops-1', 'changed', undefined],
    ]);
  },
});

describe('the configuration in effect, on lab hosts', () => {
  test('the sudo-user host: the controller logs in as ops, sudo works, root may not log in, the lab grant is quarantined', () => {
    expect(ssh(OPS, 'id -un; sudo -n id -u', { knownHosts, user: 'ops' }).stdout.split('\n').slice(0, 2)).toEqual(['ops', '0']);
    expect(onOps('sshd -T -C user=ops,host=t,addr=10.213.93.1 | grep -x "permitrootlogin no"').code).toBe(0);
    // Debian 12: OpenSSH 9.2 gets the key exchanges without OpenSSH 10's ML-KEM hybrid (ctx.release)
    expect(onOps('sshd -T -C user=ops,host=t,addr=10.213.93.1 | grep ^kexalgorithms').stdout).toBe(`kexalgorithms ${sshCrypto('debian-12').KexAlgorithms.join(',')}\n`);
    expect(sshCrypto('debian-12').KexAlgorithms.join(',')).not.toContain('mlkem');
    const root = ssh(OPS, 'true', { knownHosts });
    expect(root.code).not.toBe(0);
    expect(root.stderr).toMatch(/Permission denied/);
    // AllowGroups (CIS 5.1.4): the controller's account is in base's ssh-users; on a bastion its
    // operators' group is allowed too (alice still reaches the TOTP step: the PAM test below)
    expect(onOps('sshd -T -C user=ops,host=t,addr=10.213.93.1 | grep ^allowgroups').stdout).toBe('allowgroups ssh-users\nallowgroups operators\n');
    expect(onOps('id -nG ops').stdout.trim().split(' ')).toContain('ssh-users');
    expect(onOps('id -nG alice').stdout.trim().split(' ').sort()).toEqual(['alice', 'operators']);
    // what the lab booted it with (like cloud-init's grant) is replaced by the role's own file
    expect(onOps('ls /etc/sudoers.d; find /var/lib/provision/quarantine -name 90-provision-lab').stdout).toMatch(/^10-provision-login\nREADME\n\/var\/lib\/provision\/quarantine\/[0-9a-f]{12}\/etc\/sudoers\.d\/90-provision-lab\n$/);
    // the lab wrote nothing in sshd_config.d: only the roles' files are there (base, bastion)
    expect(onOps('ls /etc/ssh/sshd_config.d').stdout).toBe('10-provision.conf\n20-bastion.conf\n');
    expectEmptyPlan();
  });

  test('foreign unit drop-ins (User=root, sandbox off, another ExecStart) are planned, quarantined, and the daemon runs as its user again', () => {
    onNode(
      'mkdir -p /etc/systemd/system/e2e-daemon.service.d && cd /etc/systemd/system/e2e-daemon.service.d && ' +
        'printf "[Service]\\nUser=root\\nProtectSystem=no\\nNoNewPrivileges=no\\n" > zz-override.conf && ' +
        'printf "[Service]\\nExecStart=\\nExecStart=/usr/bin/sleep 4242\\n" > exec.conf && systemctl daemon-reload && systemctl restart e2e-daemon',
    );
    expect(onNode(daemonUser).stdout.trim()).toBe('root     /usr/bin/sleep 4242');

    const plan = run('plan');
    expect(plan.code).toBe(2);
    const node = byHost(plan, 'node-1');
    expect(node.changes.map((c) => c.id)).toEqual(['systemd-unit:e2e-daemon.service']);
    expect(byHost(plan, 'ops-1').changes).toEqual([]);
    const diff = node.changes[0]!.diff!;
    expect(diff).toContain('drop-in zz-override.conf sets User=root; the role requires User=e2ed');
    expect(diff).toContain('drop-in zz-override.conf sets ProtectSystem=no; the role requires ProtectSystem=strict');
    expect(diff).toContain('drop-in exec.conf sets ExecStart=/usr/bin/sleep 4242; the role requires ExecStart=/usr/bin/sleep infinity');
    const quarantined = named(node);
    expect(quarantined).toHaveLength(2);

    const apply = run('apply');
    expect(apply.code).toBe(0);
    expect(byHost(apply, 'node-1').result).toBe('changed');
    expect(onNode(DAEMON_PROPS).stdout.split('\n').filter(Boolean).sort()).toEqual(['DropInPaths=', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'User=e2ed']);
    expect(onNode(daemonUser).stdout.trim()).toBe('e2ed     /usr/bin/sleep infinity');
    // moved, not deleted: each file is where the plan said, with its content
    expect(onNode(`cat ${quarantined.join(' ')}`).stdout).toContain('User=root');
    expect(onNode('ls /etc/systemd/system/e2e-daemon.service.d').stdout).toBe('');
    expectEmptyPlan();
  });

  test('an sshd_config.d file sorting before the role\'s (PermitRootLogin yes) is planned, quarantined under the lockout guard, and sshd -T says no again', () => {
    // one session: a new login right after the reload raced sshd's re-exec once (empty output)
    const early = onOps('printf "PermitRootLogin yes\\n" > /etc/ssh/sshd_config.d/05-early.conf && systemctl reload ssh && sshd -T -C user=ops,host=t,addr=10.213.93.1 | grep ^permitrootlogin');
    expect(early.stdout.trim()).toBe('permitrootlogin yes');

    const plan = run('plan');
    expect(plan.code).toBe(2);
    const ops = byHost(plan, 'ops-1');
    expect(ops.changes.map((c) => c.id)).toEqual(['conf-dir:/etc/ssh/sshd_config.d', 'sshd-effective:ops@10.213.93.1']);
    expect(ops.changes[0]!.diff).toContain('sshd_config.d file 05-early.conf sets PermitRootLogin yes; the role requires permitrootlogin no');
    expect(ops.changes[1]!.diff).toBe('- permitrootlogin: yes\n+ permitrootlogin: no');

    const apply = run('apply');
    expect(apply.code).toBe(0);
    expect(onOps('sshd -T -C user=ops,host=t,addr=10.213.93.1 | grep ^permitrootlogin').stdout.trim()).toBe('permitrootlogin no');
    expect(ssh(OPS, 'true', { knownHosts }).code).not.toBe(0); // root login refused by the running sshd
    expect(onOps(`test -f ${named(ops)[0]} && grep PermitRootLogin ${named(ops)[0]}`).stdout.trim()).toBe('PermitRootLogin yes');
    expectEmptyPlan();
  });

  test('a foreign sudoers file granting NOPASSWD is planned and quarantined; the policy still parses and the login user keeps sudo', () => {
    onOps('printf "nobody ALL=(ALL) NOPASSWD: ALL\\n" > /etc/sudoers.d/50-foreign && chmod 440 /etc/sudoers.d/50-foreign && visudo -c -q');
    expect(onOps('sudo -n -l -U nobody').stdout).toContain('NOPASSWD: ALL');

    const plan = run('plan');
    expect(plan.code).toBe(2);
    const ops = byHost(plan, 'ops-1');
    expect(ops.changes.map((c) => c.id)).toEqual(['conf-dir:/etc/sudoers.d']);
    expect(ops.changes[0]!.diff).toContain('sudoers.d file 50-foreign sets nobody ALL=(ALL) NOPASSWD: ALL');

    const apply = run('apply');
    expect(apply.code).toBe(0);
    expect(onOps('visudo -c -q && echo parses').stdout.trim()).toBe('parses');
    expect(onOps('sudo -n -l -U nobody').stdout).not.toContain('NOPASSWD');
    expect(onOps(`cat ${named(ops)[0]}`).stdout).toBe('nobody ALL=(ALL) NOPASSWD: ALL\n');
    expect(ssh(OPS, 'sudo -n id -u', { knownHosts, user: 'ops' }).stdout.trim()).toBe('0');
    expectEmptyPlan();
  });

  test('a foreign PAM line skipping the TOTP step (auth sufficient pam_permit.so on top of /etc/pam.d/sshd) is planned, removed with the file kept in quarantine, and the code is asked again', () => {
    // alice (bastion operator, no TOTP secret) gets the lab key for a moment, so a login can show what PAM does
    const keys = '/home/alice/.ssh/authorized_keys';
    const pub = fs.readFileSync(`${LAB_KEY}.pub`, 'utf8').trim();
    const letLabKeyIn = () => expect(onOps(`cp -p ${keys} /root/ak.orig && printf '%s\\n' ${sh(pub)} >>${keys}`).code).toBe(0);
    const putBack = () => expect(onOps(`mv -f /root/ak.orig ${keys}`).code).toBe(0);
    letLabKeyIn();
    const converged = asAlice();
    // the key is accepted, then PAM asks for the TOTP code: a wrong one is refused
    expect([converged.code === 0, converged.asked, converged.stdout]).toEqual([false, true, '']);
    expect(converged.stderr).toContain('Authenticated using "publickey" with partial success');
    onOps("sed -i '1i auth sufficient pam_permit.so' /etc/pam.d/sshd");
    const bypass = asAlice();
    // the key alone now logs in, no code asked: the second factor is gone
    expect([bypass.code, bypass.asked, bypass.stdout.trim()]).toEqual([0, false, 'alice']);
    putBack();

    const plan = run('plan');
    expect(plan.code).toBe(2);
    const ops = byHost(plan, 'ops-1');
    expect(ops.changes.map((c) => c.id)).toEqual(['pam-stack:sshd']);
    expect(byHost(plan, 'node-1').changes).toEqual([]);
    const diff = ops.changes[0]!.diff!;
    expect(diff).toContain("! /etc/pam.d/sshd:1 auth sufficient pam_permit.so (not Debian 12's, a role's or in bastion.pam_accept)");
    const kept = /the file as it was is kept at (\S+)/.exec(diff)![1]!;
    expect(kept).toMatch(/^\/var\/lib\/provision\/quarantine\/[0-9a-f]{12}\/etc\/pam\.d\/sshd$/);

    const apply = run('apply');
    expect(apply.code).toBe(0);
    expect(byHost(apply, 'ops-1').result).toBe('changed');
    // the line is gone, the role's TOTP line is in place, and the file as it was waits in quarantine
    expect(onOps("grep -c '^auth sufficient pam_permit.so' /etc/pam.d/sshd").stdout.trim()).toBe('0');
    expect(onOps("grep -x 'auth required pam_google_authenticator.so' /etc/pam.d/sshd").code).toBe(0);
    expect(onOps(`head -1 ${kept}`).stdout).toBe('auth sufficient pam_permit.so\n');
    letLabKeyIn();
    const after = asAlice();
    expect([after.code === 0, after.asked, after.stdout]).toEqual([false, true, '']);
    putBack();
    expectEmptyPlan();
  });
});

/**
 * Log in as alice with the lab key, answering PAM's keyboard-interactive prompt (the TOTP code)
 * with a wrong code through SSH_ASKPASS (BatchMode would skip the step altogether); `asked`: the
 * prompt came.
 */
function asAlice(): { code: number; stdout: string; stderr: string; asked: boolean } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-askpass-'));
  try {
    const askpass = path.join(dir, 'askpass');
    fs.writeFileSync(askpass, `#!/bin/sh\necho asked >>${sh(path.join(dir, 'asked'))}\necho 000000\n`, { mode: 0o700 });
    const r = spawnSync(
      'ssh',
      ['-v', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=5', '-i', LAB_KEY, `alice@${OPS}`, 'id -un'],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' } },
    );
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', asked: fs.existsSync(path.join(dir, 'asked')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

