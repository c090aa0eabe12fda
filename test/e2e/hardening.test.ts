// Hardening an independent auditor confirms, on a lab host with the repository's base role.
// - Debian's ssh-audit, run from the controller, fails Debian's sshd defaults (NIST-curve key
//   exchange, SHA-1 and 64-bit-tag MACs) and finds nothing after apply but algorithms it does not
//   know; OpenSSH still logs in with its defaults, a client offering only what was removed is refused.
// - Security updates are convergence: after apply apt itself finds nothing pending from the
//   security archive; a new update (a package built here, published in a local archive labelled
//   Debian-Security, its library preloaded by a daemon) is planned by name and version, held when
//   base.security_updates is hold, installed by apply, and the daemon on the replaced library is
//   restarted — or only listed when the inventory schedules its restart.
// - The rest of the baseline in effect: sysctls, umask 027 in a login shell, the banner before
//   login, no core dumps, process accounting recording, the integrity timer and its report,
//   login.defs as useradd reads it, idle shells ending, modprobe refusing unused modules, cron and
//   at for root only, sshd_config root-only.
// - Only members of ssh-users log in over SSH (AllowGroups, CIS 5.1.4): an account with an
//   authorized key is refused until it joins; the controller is a member.
// - Forwarding off (CIS 3.3.1) converges although the kernel resets accept_redirects when it
//   changes: at apply, and at boot (systemd-sysctl applies the forwarding file first).
// A no-op plan stays one exec.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test, expect } from '@jest/globals';
import { cliJson, ssh, LAB_KEY, useFleet } from './helpers.js';
import { SSH_CRYPTO, SSH_USERS_GROUP } from '../../roles/base/sshd.js';
import { sh } from '../../src/shell/quote.js';
import { CRON_MODES, DEFAULT_BANNER, FORWARDING_SYSCTLS, KERNEL_SYSCTLS, NET_SYSCTLS, SHA_CRYPT_ROUNDS, SHELL_TIMEOUT, UNUSED_MODULES } from '../../roles/base/baseline.js';

const inv = 'test/fixtures/e2e/hardening';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const HOST = '10.213.96.11';
const on = (command: string) => ssh(HOST, command, { knownHosts });
/** run on the host and insist it worked */
const must = (command: string): string => {
  const r = on(command);
  expect({ command, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ command, code: 0, stderr: '' });
  return r.stdout;
};

type Host = { host: string; result: string; changes: { id: string; summary: string }[]; skipped: { id: string; reason: string }[]; execs: number; error?: string };
const run = (cmd: 'plan' | 'apply', inventory = inv) => cliJson<{ hosts: Host[] }>([cmd, inventory, '--playbook', playbook, '--connect-timeout', '4']);

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

/**
 * A package e2e-seclib VERSION whose library is a copy of libz (any real shared object will do),
 * built on the host with dpkg-deb into /srv/e2e-sec/pool.
 */
const buildPackage = (version: string) =>
  [
    `d=$(mktemp -d) && mkdir -p "$d/DEBIAN" "$d/usr/lib/e2e-sec" /srv/e2e-sec/pool`,
    `cp /lib/x86_64-linux-gnu/libz.so.1 "$d/usr/lib/e2e-sec/libe2esec.so.1"`,
    `printf 'Package: e2e-seclib\\nVersion: ${version}\\nArchitecture: all\\nMaintainer: provision e2e <e2e@example.invalid>\\nDescription: e2e security update test library\\n' > "$d/DEBIAN/control"`,
    `dpkg-deb -b --root-owner-group "$d" /srv/e2e-sec/pool/e2e-seclib_${version}_all.deb >/dev/null && rm -rf "$d"`,
  ].join(' && ');

/**
 * Publish a new version in a local archive that calls itself Debian's security archive for this
 * release, then refresh the lists as apt's daily timer does (apt-get update, then its update-stamp).
 */
const publish = (version: string) =>
  [
    buildPackage(version),
    `cd /srv/e2e-sec && ls pool/*.deb | grep -v '_${version}_' | xargs -r rm -f`,
    `mkdir -p dists/bookworm-security/main/binary-amd64`,
    `for f in pool/*.deb; do dpkg-deb -f "$f"; echo "Filename: $f"; echo "Size: $(stat -c %s "$f")"; echo "SHA256: $(sha256sum "$f" | cut -d' ' -f1)"; echo; done > dists/bookworm-security/main/binary-amd64/Packages`,
    `p=dists/bookworm-security/main/binary-amd64/Packages`,
    `printf 'Origin: Debian\\nLabel: Debian-Security\\nSuite: bookworm-security\\nCodename: bookworm-security\\nDate: %s\\nArchitectures: amd64\\nComponents: main\\nSHA256:\\n %s %s main/binary-amd64/Packages\\n' "$(date -Ru)" "$(sha256sum $p | cut -d' ' -f1)" "$(stat -c %s $p)" > dists/bookworm-security/Release`,
    `echo 'deb [trusted=yes] file:/srv/e2e-sec bookworm-security main' > /etc/apt/sources.list.d/e2e-sec.list`,
    `apt-get update -qq && touch /var/lib/apt/periodic/update-stamp`,
  ].join(' && ');

const mainPid = () => must('systemctl show -P MainPID e2e-sec.service').trim();

const tempInventories: string[] = [];
/** an inventory like the fixture's, with more base vars (for one plan or apply) */
function inventoryWith(baseVars: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-hardening-'));
  tempInventories.push(dir);
  fs.copyFileSync(path.join(inv, 'hosts.yaml'), path.join(dir, 'hosts.yaml'));
  fs.copyFileSync(knownHosts, path.join(dir, 'known_hosts'));
  fs.mkdirSync(path.join(dir, 'group_vars'));
  fs.writeFileSync(path.join(dir, 'group_vars', 'all.yaml'), `base:\n${baseVars}`);
  return dir;
}

let before: string[] = [];
let firstApply: Host;
/** net.ipv4.ip_forward before the first apply (a container's IPv4 settings start as the machine's) */
let forwardBefore = '';

/** every network sysctl base sets, read live from /proc/sys (key → number) */
const NETWORK = { ...FORWARDING_SYSCTLS, ...NET_SYSCTLS };
const liveNetwork = (): Record<string, number> => {
  const keys = Object.keys(NETWORK);
  const out = must(keys.map((k) => `cat /proc/sys/${k.replace(/\./g, '/')}`).join('; ')).trim().split('\n');
  return Object.fromEntries(keys.map((k, i) => [k, Number(out[i])]));
};

useFleet(inv, {
  ready: () => {
    before = sshAudit().findings;
    forwardBefore = must('cat /proc/sys/net/ipv4/ip_forward').trim();
    const r = run('apply');
    firstApply = r.data.hosts[0]!;
    expect(r.data.hosts.map((h) => [h.host, h.result, h.error])).toEqual([['hard-1', 'changed', undefined]]);
  },
  done: () => {
    for (const d of tempInventories) fs.rmSync(d, { recursive: true, force: true });
  },
});

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
    const out = must('/usr/sbin/sshd -T -C user=root,host=t,addr=10.213.96.1');
    expect(out).toContain(`\nkexalgorithms ${SSH_CRYPTO.KexAlgorithms.join(',')}\n`);
    expect(out).toContain(`\nciphers ${SSH_CRYPTO.Ciphers.join(',')}\n`);
    expect(out).toContain(`\nmacs ${SSH_CRYPTO.MACs.join(',')}\n`);
    expect(out).toContain(`\nhostkeyalgorithms ${SSH_CRYPTO.HostKeyAlgorithms.join(',')}\n`);
    expect(out).toContain('\ncompression no\n');
  });

  test('OpenSSH with its defaults logs in; offering only a removed algorithm is refused', () => {
    expect(on('id -u').stdout).toBe('0\n');
    const nist = loginWith('KexAlgorithms', 'ecdh-sha2-nistp256');
    expect(nist.status).not.toBe(0);
    expect(nist.stderr).toMatch(/no matching key exchange method/);
    const cbc = loginWith('Ciphers', 'aes128-ctr');
    expect(cbc.stderr).toMatch(/no matching cipher/);
    const sha1 = loginWith('HostKeyAlgorithms', 'ssh-rsa');
    expect(sha1.stderr).toMatch(/no matching host key type/);
  });
});

describe('who may log in over SSH (AllowGroups, CIS 5.1.4)', () => {
  test('an account whose key is authorized is refused until it joins ssh-users; the controller is a member', () => {
    expect(must(`/usr/sbin/sshd -T -C user=root,host=t,addr=10.213.96.1 | grep ^allowgroups`)).toBe(`allowgroups ${SSH_USERS_GROUP}\n`);
    expect(must('id -nG root').trim().split(' ')).toContain(SSH_USERS_GROUP);
    const pub = fs.readFileSync(`${LAB_KEY}.pub`, 'utf8').trim();
    const user = 'e2e-outsider';
    try {
      must(
        `useradd -m -s /bin/sh ${user} && install -d -m 0700 -o ${user} -g ${user} /home/${user}/.ssh && ` +
          `printf '%s\\n' ${sh(pub)} > /home/${user}/.ssh/authorized_keys && chown ${user}: /home/${user}/.ssh/authorized_keys && chmod 0600 /home/${user}/.ssh/authorized_keys`,
      );
      const refused = ssh(HOST, 'id -un', { knownHosts, user });
      expect([refused.code, refused.stdout]).toEqual([255, '']);
      expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
      // sshd says why: the group list, not the key
      expect(must(`journalctl --no-pager -o cat | grep -c "User ${user} from .* not allowed because none of user's groups are listed in AllowGroups" || true`).trim()).not.toBe('0');
      // the same key logs in once the account is a member: the refusal was AllowGroups
      must(`usermod --append --groups ${SSH_USERS_GROUP} ${user}`);
      expect(ssh(HOST, 'id -un', { knownHosts, user }).stdout).toBe(`${user}\n`);
    } finally {
      on(`userdel -r ${user} 2>/dev/null`);
    }
    // the controller (ssh2) still logs in: a no-op plan in one exec
    expect(run('plan').data.hosts.map((h) => [h.host, h.changes.length, h.execs])).toEqual([['hard-1', 0, 1]]);
  });
});

describe('security updates are convergence', () => {
  test('the first apply refreshed the lists and installed every pending security update: apt itself finds none left', () => {
    const change = firstApply.changes.find((c) => c.id === 'security-updates:Debian-Security')!;
    // a fresh image has no refresh stamp: the plan said apply refreshes first
    expect(change.summary).toMatch(/^refresh the package lists \(no refresh known; /);
    expect(must(`LC_ALL=C apt-get -s -o Debug::NoLocking=1 upgrade | grep '^Inst ' | grep -c 'Debian-Security:' || true`).trim()).toBe('0');
    expect(must('stat -c %Y /var/lib/provision/apt-updated')).toMatch(/^[0-9]+\n$/);
  });

  test('a new update is planned by name and version, held on request, installed, and its daemon restarted', () => {
    must(`${buildPackage('1.0')} && dpkg -i /srv/e2e-sec/pool/e2e-seclib_1.0_all.deb >/dev/null`);
    must(
      `printf '[Service]\\nEnvironment=LD_PRELOAD=/usr/lib/e2e-sec/libe2esec.so.1\\nExecStart=/bin/sleep infinity\\n' > /etc/systemd/system/e2e-sec.service && systemctl daemon-reload && systemctl start e2e-sec.service`,
    );
    must(publish('1.1'));
    const pid = mainPid();
    expect(must(`grep -c libe2esec /proc/${pid}/maps`).trim()).not.toBe('0');

    const held = inventoryWith('  security_updates: hold\n');
    const h = run('plan', held).data.hosts[0]!;
    expect(h.changes).toEqual([]);
    expect(h.skipped).toContainEqual({ id: 'security-updates:Debian-Security', reason: expect.stringMatching(/^security updates held \(base\.security_updates: hold\)/) });

    const plan = run('plan');
    expect(plan.code).toBe(2);
    expect(plan.data.hosts[0]!.changes.map((c) => c.summary)).toEqual([
      expect.stringMatching(/^1 security update: e2e-seclib 1\.0 → 1\.1 \(unattended-upgrade; package lists refreshed 20[0-9-]+ [0-9:]+ UTC\); then restart the services left running on replaced libraries; never restarted here, listed "restart needed" for a scheduled window: dbus\.service, systemd-logind\.service$|^1 security update: e2e-seclib 1\.0 → 1\.1 \(unattended-upgrade; package lists refreshed 20[0-9-]+ [0-9:]+ UTC\); then restart the services left running on replaced libraries$/),
    ]);
    const apply = run('apply');
    expect(apply.data.hosts.map((x) => [x.result, x.error])).toEqual([['changed', undefined]]);
    expect(must(`dpkg-query -W -f='\${Version}' e2e-seclib`)).toBe('1.1');
    const after = mainPid();
    expect(after).not.toBe(pid);
    expect(must(`grep -c '(deleted)' /proc/${after}/maps || true`).trim()).toBe('0');
  });

  test('a daemon whose restart the inventory schedules keeps running on the old library and the plan stays empty', () => {
    const scheduled = inventoryWith('  scheduled_restarts: [e2e-sec.service]\n');
    must(publish('1.2'));
    const pid = mainPid();
    const plan = run('plan', scheduled).data.hosts[0]!;
    expect(plan.changes.map((c) => c.summary)).toEqual([expect.stringContaining('e2e-seclib 1.1 → 1.2')]);
    expect(plan.changes[0]!.summary).toContain('listed "restart needed" for a scheduled window: e2e-sec.service');
    expect(run('apply', scheduled).data.hosts.map((x) => [x.result, x.error])).toEqual([['changed', undefined]]);
    expect(must(`dpkg-query -W -f='\${Version}' e2e-seclib`)).toBe('1.2');
    expect(mainPid()).toBe(pid);
    expect(must(`grep -c 'libe2esec.so.1 (deleted)' /proc/${pid}/maps`).trim()).toMatch(/^[1-9][0-9]*$/);
    // nothing left that apply would do: only the scheduled restart is outstanding
    expect(run('plan', scheduled).data.hosts.map((x) => [x.changes.length, x.execs])).toEqual([[0, 1]]);
    // without the schedule (the window has come), the restart is planned and done
    const plan2 = run('plan').data.hosts[0]!;
    expect(plan2.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^restart e2e-sec\.service \(running on replaced libraries\)/)]);
    expect(run('apply').data.hosts.map((x) => [x.result, x.error])).toEqual([['changed', undefined]]);
    expect(mainPid()).not.toBe(pid);
  });
});

describe('the rest of the baseline, in effect', () => {
  test('network sysctls set live, forwarding off among them; kernel-wide ones skipped in the container with the reason', () => {
    expect(liveNetwork()).toEqual(NETWORK);
    const skipped = firstApply.skipped.filter((s) => s.id.startsWith('sysctl:')).map((s) => s.id);
    expect(skipped.sort()).toEqual(Object.keys(KERNEL_SYSCTLS).map((k) => `sysctl:${k}`).sort());
  });

  test('forwarding off converges although the kernel resets accept_redirects when it changes: at apply and at boot', () => {
    // the first apply met forwarding on (inherited from the machine) and turned it off
    expect(forwardBefore).toBe('1');
    expect(firstApply.changes.find((c) => c.id === 'sysctl:net.ipv4.ip_forward')?.summary).toBe(
      'set net.ipv4.ip_forward: 1 → 0 (the kernel then resets net.ipv4.conf.all.accept_redirects: set again to 0), persist in /etc/sysctl.d/55-provision-net.ipv4.ip_forward.conf',
    );
    // this kernel does what devinet.c says: forwarding 1 → 0 puts conf.all.accept_redirects back to 1
    expect(must('sysctl -q -w net.ipv4.ip_forward=1 && sysctl -q -w net.ipv4.conf.all.accept_redirects=0 && sysctl -q -w net.ipv4.ip_forward=0 && cat /proc/sys/net/ipv4/conf/all/accept_redirects')).toBe('1\n');
    // drift: forwarding on again, every redirect key at base's value (what a converged host has)
    must('sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.accept_redirects=0');
    const plan = run('plan');
    expect(plan.code).toBe(2);
    expect(plan.data.hosts[0]!.changes.map((c) => [c.id, c.summary])).toEqual([
      ['sysctl:net.ipv4.ip_forward', 'set net.ipv4.ip_forward: 1 → 0 (the kernel then resets net.ipv4.conf.all.accept_redirects: set again to 0)'],
      ['sysctl:net.ipv6.conf.all.forwarding', 'set net.ipv6.conf.all.forwarding: 1 → 0'],
    ]);
    expect(run('apply').data.hosts.map((h) => [h.result, h.error])).toEqual([['changed', undefined]]);
    expect(liveNetwork()).toEqual(NETWORK);
    expect(run('plan').data.hosts.map((h) => [h.changes.length, h.execs])).toEqual([[0, 1]]);

    // boot: systemd-sysctl applies /etc/sysctl.d in name order — the forwarding files sort first
    const files = must('ls /etc/sysctl.d | grep -- -provision-').trim().split('\n');
    expect(files.slice(0, 2)).toEqual(['55-provision-net.ipv4.ip_forward.conf', '55-provision-net.ipv6.conf.all.forwarding.conf']);
    expect(files.slice(2).every((f) => f.startsWith('60-provision-'))).toBe(true);
    // as at boot in a container (forwarding inherited on), then the boot service once more
    must('sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 && systemctl restart systemd-sysctl.service');
    expect(must('systemctl show -P Result systemd-sysctl.service')).toBe('success\n');
    expect(liveNetwork()).toEqual(NETWORK);
    expect(run('plan').data.hosts.map((h) => [h.changes.length, h.execs])).toEqual([[0, 1]]);
  });

  test('the banner is shown before login; a login shell has umask 027 and no core dumps', () => {
    const r = on(`sh -lc 'umask; ulimit -c; ulimit -H -c'`);
    expect(r.stderr).toContain(DEFAULT_BANNER);
    expect(r.stdout).toBe('0027\n0\n0\n');
  });

  test('process accounting runs and records commands', () => {
    expect(must('systemctl is-active acct')).toBe('active\n');
    must('/bin/sleep 0.1');
    expect(must('lastcomm --command sleep | head -n 1')).toMatch(/^sleep\s+(\S+\s+)?root\s/);
  });

  test('the integrity timer is scheduled; its report names a changed package file and reaches the logs', () => {
    expect(must('systemctl is-enabled provision-integrity.timer; systemctl is-active provision-integrity.timer')).toBe('enabled\nactive\n');
    // a changed system binary (one nothing runs here)
    must('printf x >> /usr/bin/ischroot && systemctl start provision-integrity.service');
    const journal = must('journalctl -t provision-integrity -o cat --no-pager');
    expect(journal).toMatch(/^integrity: [0-9]+ changed package file\(s\) \(debsums\)$/m);
    expect(journal).toContain('integrity: changed /usr/bin/ischroot');
    // rsyslog has it too: what base.log_host forwards
    expect(must('grep -c "integrity: changed /usr/bin/ischroot" /var/log/syslog').trim()).not.toBe('0');
  });

  test('login.defs as shadow reads it: one UMASK line, a new account gets a 0750 home and a minimum password age', () => {
    expect(must(`grep -E '^(UMASK|PASS_MIN_DAYS|SHA_CRYPT_(MIN|MAX)_ROUNDS)[[:space:]]' /etc/login.defs | sort`)).toBe(
      `PASS_MIN_DAYS\t\t1\nSHA_CRYPT_MAX_ROUNDS\t\t${SHA_CRYPT_ROUNDS}\nSHA_CRYPT_MIN_ROUNDS\t\t${SHA_CRYPT_ROUNDS}\nUMASK\t\t027\n`,
    );
    try {
      must('useradd -m e2e-defs');
      expect(must('stat -c %a /home/e2e-defs')).toBe('750\n');
      expect(must(`chage -l e2e-defs | grep '^Minimum'`)).toMatch(/: 1\n$/);
    } finally {
      on('userdel -r e2e-defs 2>/dev/null');
    }
  });

  test('an interactive login shell ends when idle: TMOUT readonly and exported', () => {
    expect(must(`bash -lc 'echo "$TMOUT"; readonly -p | grep -c " TMOUT="; env | grep -c "^TMOUT="'`)).toBe(`${SHELL_TIMEOUT}\n1\n1\n`);
  });

  test('modprobe refuses the modules a server never loads', () => {
    // the lab image has no kmod; every VM does (it reads the same /etc/modprobe.d)
    must('command -v modprobe >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kmod >/dev/null');
    const out = must(UNUSED_MODULES.map((m) => `modprobe -n -v ${m}`).join('; '));
    expect(out.split('\n').filter(Boolean).map((l) => l.trim())).toEqual(UNUSED_MODULES.map(() => 'install /bin/false'));
  });

  test('cron and at for root only; sshd_config readable by root only', () => {
    const paths = Object.keys(CRON_MODES);
    expect(must(`stat -c '%n %a %U:%G' ${paths.join(' ')}`)).toBe(paths.map((p) => `${p} ${Number.parseInt(CRON_MODES[p]!, 8).toString(8)} root:root\n`).join(''));
    // stat overrides: a cron upgrade keeps the modes
    const overrides = must('dpkg-statoverride --list');
    for (const p of paths) expect(overrides).toContain(` ${p}\n`);
    expect(must('systemctl is-active cron')).toBe('active\n');
    expect(must("stat -c '%n %a %U:%G' /etc/cron.allow /etc/at.allow /etc/ssh/sshd_config; cat /etc/cron.allow /etc/at.allow")).toBe(
      '/etc/cron.allow 640 root:crontab\n/etc/at.allow 640 root:daemon\n/etc/ssh/sshd_config 600 root:root\nroot\nroot\n',
    );
    expect(must('ls /etc/cron.deny /etc/at.deny 2>/dev/null || true')).toBe('');
    // a user other than root is refused by crontab itself
    const other = on(`su -s /bin/sh nobody -c 'crontab -l'`);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('You (nobody) are not allowed to use this program (crontab)');
  });

  test('the controller (ssh2) still connects: a no-op plan is one exec', () => {
    const r = run('plan');
    expect(r.code).toBe(0);
    expect(r.data.hosts.map((h) => [h.host, h.changes.length, h.execs])).toEqual([['hard-1', 0, 1]]);
  });
});
