import { describe, test, expect } from '@jest/globals';
import { build, containerFacts, find, labHosts, rulesFor, tpl, vmFacts } from './helpers.js';
import { renderRules, nftComment } from '../../../roles/base/firewall.js';
import { MONITORING, parseCidr, resolveSources } from '../../../src/roles/net.js';
import { sshdValidate } from '../../../roles/base/sshd.js';
import type { FileState } from '../../../src/resources/index.js';
import { spawnSync } from 'node:child_process';
import { CRON_MODES, DEFAULT_BANNER, FORWARDING_SYSCTLS, KERNEL_SYSCTLS, MODPROBE_FILE, NET_SYSCTLS, otherValues, SHA_CRYPT_ROUNDS, UNUSED_MODULES } from '../../../roles/base/baseline.js';

const SSHD = 'file:/etc/ssh/sshd_config.d/10-provision.conf';
const directives = (conf: string): string[] =>
  conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('base: sshd drop-in', () => {
  test('a node: keys only, no passwords, no keyboard-interactive, no forwarding', () => {
    const b = build({ host: 'drand-1' });
    const conf = tpl(b, 'base/sshd.conf');
    const d = directives(conf);
    for (const want of [
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AuthenticationMethods publickey',
      'PermitEmptyPasswords no',
      'PermitRootLogin prohibit-password',
      'MaxAuthTries 3',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
    ]) {
      expect(d).toContain(want);
    }
    expect(conf).not.toMatch(/^\s*(PasswordAuthentication|KbdInteractiveAuthentication)\s+yes/im);
    // the controller's account only from the jump host
    expect(d).toContain('Match User root Address !10.213.7.10,*');
    expect(d).toContain('AuthorizedKeysFile none');
    // no other drop-in on a node: keyboard-interactive appears nowhere
    expect(b.rendered.has('bastion/sshd-bastion.conf')).toBe(false);
  });

  test('the file is guarded, validated against the whole config, and reloads ssh', () => {
    const b = build({ host: 'drand-1' });
    const r = find(b, SSHD);
    expect(r.guard).toBe(true);
    expect(r.notify).toEqual(['reload ssh']);
    const apply = r.apply({ kind: 'missing' } as FileState);
    expect(apply).toContain('/usr/sbin/sshd -t -f "$w"');
    expect(apply).toContain('Include /etc/ssh/sshd_config');
    // the check stops the reload: a handler step runs under set -e
    expect(b.handlers['reload ssh']!.script).toBe('/usr/sbin/sshd -t\nsystemctl reload -- ssh\n');
    expect(b.handlers['reload ssh']!.restarts).toBeUndefined();
  });

  test('the validate command uses %s exactly once (the file resource replaces every %s)', () => {
    expect(sshdValidate().split('%s').length - 1).toBe(1);
  });

  test('the bastion: base keeps publickey-only globally; keyboard-interactive only for operators', () => {
    const b = build({ host: 'bastion-1' });
    const d = directives(tpl(b, 'base/sshd.conf'));
    expect(d).toContain('KbdInteractiveAuthentication no');
    expect(d).toContain('AuthenticationMethods publickey');
    expect(d).toContain('AllowTcpForwarding local'); // ProxyJump
    expect(d).toContain('Match User root Address !10.213.7.1,*');
    const bastionConf = directives(tpl(b, 'bastion/sshd-bastion.conf'));
    expect(bastionConf).toEqual([
      'Match Group operators',
      'KbdInteractiveAuthentication yes',
      'AuthenticationMethods publickey,keyboard-interactive',
    ]);
  });

  test('a non-root controller account: nobody logs in as root', () => {
    const b = build({ host: 'drand-2', loginUser: 'provision' });
    const d = directives(tpl(b, 'base/sshd.conf'));
    expect(d).toContain('PermitRootLogin no');
    expect(d).toContain('Match User provision Address !10.213.7.10,*');
  });

  test('AllowGroups (CIS 5.1.4): ssh-users with the controller\'s account as member, joined before the guarded drop-in; operators too on a bastion', () => {
    const node = build({ host: 'drand-2', loginUser: 'provision' });
    expect(directives(tpl(node, 'base/sshd.conf'))).toContain('AllowGroups ssh-users');
    const bastion = build({ host: 'bastion-1' });
    const d = directives(tpl(bastion, 'base/sshd.conf'));
    expect(d).toContain('AllowGroups ssh-users operators');
    // outside the Match block: for every connection
    expect(d.indexOf('AllowGroups ssh-users operators')).toBeLessThan(d.findIndex((l) => l.startsWith('Match ')));
    const ids = node.all.map((r) => r.id);
    expect(ids.indexOf('group:ssh-users')).toBeLessThan(ids.indexOf(SSHD));
    expect(find(node, SSHD).guard).toBe(true);
    // a missing group is made with the controller's account in it, in one step
    const g = find(node, 'group:ssh-users');
    const fresh = g.parse('', 0);
    expect(g.diff(fresh)?.summary).toBe('create system group ssh-users with member provision');
    expect(g.apply(fresh)).toMatch(/groupadd --system -- ssh-users[^]*usermod --append --groups ssh-users -- provision/);
  });

  test('a host without jump host and without controller addresses is refused (it would lock the controller out)', () => {
    expect(() => build({ host: 'bastion-1', controllerAddresses: [] })).toThrow(/no controller address is known/);
  });

  test('ssh_from overrides the derived sources', () => {
    const b = build({ host: 'drand-1', vars: { base: { monitoring: [], ssh_from: ['198.51.100.7', '10.9.0.0/16'] } } });
    expect(rulesFor(b, 22)).toEqual(['ip saddr { 198.51.100.7, 10.9.0.0/16 } tcp dport 22 accept comment "ssh from base.ssh_from"']);
    expect(directives(tpl(b, 'base/sshd.conf'))).toContain('Match User root Address !198.51.100.7,!10.9.0.0/16,*');
  });
});

describe('base: nftables ruleset from the openings of every role', () => {
  test('drand-1: SSH only from the bastion, node exporter and drand metrics only from monitoring', () => {
    const b = build({ host: 'drand-1' });
    const rs = tpl(b, 'base/nftables.conf');
    expect(rs).toMatch(/^flush ruleset$/m);
    expect(rs).toContain('type filter hook input priority filter; policy drop;');
    expect(rs).toContain('ct state established,related accept');
    expect(rs).toContain('iif "lo" accept');
    expect(rulesFor(b, 22)).toEqual(['ip saddr { 10.213.7.10 } tcp dport 22 accept comment "ssh from its jump host bastion-1"']);
    expect(rulesFor(b, 9100)).toEqual(['ip saddr { 10.213.7.30 } tcp dport 9100 accept comment "node exporter from base.monitoring"']);
    expect(rulesFor(b, 9080)).toEqual(['ip saddr { 10.213.7.30 } tcp dport 9080 accept comment "drand metrics from base.monitoring"']);
    // nothing opened to 'any'
    expect(rs).not.toMatch(/^\s*(tcp|udp) dport/m);
    const nft = find(b, 'nftables:/etc/nftables.conf');
    expect(nft.guard).toBe(true);
  });

  test('the bastion: SSH from the controller and from the operator allowlist', () => {
    const b = build({ host: 'bastion-1' });
    expect(rulesFor(b, 22)).toEqual([
      'ip saddr { 10.213.7.1 } tcp dport 22 accept comment "ssh from the controller"',
      'ip saddr { 192.0.2.0/24 } tcp dport 22 accept comment "ssh from operators (bastion.allow_from)"',
    ]);
  });

  test('no monitoring: the exporter port stays closed, and the plan says so', () => {
    const b = build({ host: 'monitor-1', vars: { base: { monitoring: [] } } });
    expect(rulesFor(b, 9100)).toEqual(['# tcp/9100 stays closed: no sources (node exporter from base.monitoring)']);
  });

  test('renderRules: any, IPv6, host names, the monitoring token, overlapping networks', () => {
    const hosts = labHosts();
    const lines = renderRules(
      [
        { port: 443, proto: 'tcp', from: 'any', comment: 'https' },
        { port: 53, proto: 'udp', from: ['2001:db8::1', '10.0.0.0/8', '10.1.2.3', 'drand-2'], comment: 'dns' },
        { port: 9999, proto: 'tcp', from: [MONITORING], comment: 'app metrics' },
      ],
      hosts,
      ['10.213.7.30'],
    );
    expect(lines).toEqual([
      'tcp dport 443 accept comment "https"',
      'ip saddr { 10.0.0.0/8 } udp dport 53 accept comment "dns"',
      'ip6 saddr { 2001:db8::1 } udp dport 53 accept comment "dns"',
      'ip saddr { 10.213.7.30 } tcp dport 9999 accept comment "app metrics"',
    ]);
  });

  test('hostile or broken values never reach the ruleset', () => {
    const hosts = labHosts();
    expect(nftComment('x" accept; flush ruleset; #')).toBe('x_ accept_ flush ruleset_ _');
    expect(() => renderRules([{ port: 22, proto: 'tcp', from: ['1.2.3.4 } accept #'], comment: 'x' }], hosts, [])).toThrow(/neither an IP address/);
    expect(() => renderRules([{ port: 70000, proto: 'tcp', from: [], comment: 'x' }], hosts, [])).toThrow(/port must be/);
    expect(() => renderRules([{ port: 22, proto: 'tcp', from: ['0.0.0.0/0'], comment: 'x' }], hosts, [])).toThrow(/whole internet/);
    expect(() => resolveSources(['10.0.0.1/8'], hosts, 'v')).toThrow(/neither/); // host bits set
    expect(parseCidr('10.213.7.1/32')?.text).toBe('10.213.7.1');
  });
});

describe('base: container limits are skipped with a reason, never on real hosts', () => {
  test('auditd, pam_tty_audit and time sync skip in a container, with reasons', () => {
    const b = build({ host: 'drand-1' });
    const skipped = b.all.filter((r) => r.skipIf?.(containerFacts));
    const ids = skipped.map((r) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'apt:auditd',
        'service:auditd',
        'file:/etc/audit/rules.d/50-provision.rules',
        'service:systemd-timesyncd',
      ]),
    );
    const pam = skipped.find((r) => r.id.startsWith('line:/etc/pam.d/sshd:') && r.id.includes('pam_tty_audit'));
    expect(pam).toBeDefined();
    expect(pam!.guard).toBe(true);
    for (const r of skipped) expect(r.skipIf!(containerFacts)).toMatch(/container/);
    // on a VM or bare metal nothing is skipped
    expect(b.all.filter((r) => r.skipIf?.(vmFacts) !== null && r.skipIf?.(vmFacts) !== undefined)).toEqual([]);
  });

  test('pam_tty_audit line is the one the seed asks for', () => {
    const b = build({ host: 'bastion-1' });
    const pam = b.all.find((r) => r.id.includes('pam_tty_audit'))!;
    expect(pam.apply({ kind: 'file', present: false } as never)).toContain("L='session required pam_tty_audit.so enable=*'");
  });
});

describe('base: logs, metrics, updates', () => {
  test('log forwarding goes to the log host address (inventory name resolved)', () => {
    const b = build({ host: 'drand-3' });
    const conf = tpl(b, 'base/rsyslog-forward.conf');
    expect(conf).toContain('target="10.213.7.30" port="514" protocol="tcp"');
    expect(find(b, 'file:/etc/rsyslog.d/90-provision-forward.conf').notify).toEqual(['restart rsyslog']);
  });

  test('no log host: no forwarding file (removed if present)', () => {
    const b = build({ host: 'drand-3', vars: { base: { monitoring: [] } } });
    expect(b.rendered.has('base/rsyslog-forward.conf')).toBe(false);
    const r = find(b, 'file:/etc/rsyslog.d/90-provision-forward.conf');
    expect(r.diff({ kind: 'file' } as FileState)?.action).toBe('delete');
  });

  test('the log host does not forward to itself', () => {
    const b = build({ host: 'monitor-1' });
    expect(b.rendered.has('base/rsyslog-forward.conf')).toBe(false);
    expect(find(b, 'file:/etc/rsyslog.d/90-provision-forward.conf').diff({ kind: 'missing' } as FileState)).toBeNull();
  });

  test('node exporter listens on the host address', () => {
    const b = build({ host: 'drand-2' });
    expect(tpl(b, 'base/node-exporter.conf')).toContain('--web.listen-address=10.213.7.22:9100');
  });

  test('unattended-upgrades: security origins only', () => {
    const b = build({ host: 'drand-2' });
    const conf = tpl(b, 'base/52provision-unattended-upgrades');
    expect(conf).toContain('#clear Unattended-Upgrade::Origins-Pattern;');
    const origins = conf.split('\n').filter((l) => l.includes('origin='));
    expect(origins.length).toBe(2);
    for (const o of origins) expect(o).toContain('label=Debian-Security');
    expect(tpl(b, 'base/20auto-upgrades')).toContain('APT::Periodic::Unattended-Upgrade "1";');
  });

  test('every notified handler is defined', () => {
    for (const host of ['bastion-1', 'monitor-1', 'drand-1']) {
      const b = build({ host });
      for (const r of b.all) for (const n of r.notify) expect(Object.keys(b.handlers)).toContain(n);
    }
  });

  test('vars are closed: a typo is an error', () => {
    expect(() => build({ host: 'drand-1', vars: { base: { monitorng: [] } } })).toThrow(/additional properties/);
  });
});

describe('base: security updates and the rest of the baseline', () => {
  const SEC = 'security-updates:Debian-Security';
  test('security updates apply by default; hold skips them everywhere with the reason', () => {
    expect(find(build({ host: 'drand-1' }), SEC).skipIf).toBeUndefined();
    const held = find(build({ host: 'drand-1', vars: { base: { security_updates: 'hold' } } }), SEC);
    expect(held.skipIf!(vmFacts)).toBe('security updates held (base.security_updates: hold): nothing pending from the security archive is installed until it is set to apply');
    expect(() => build({ host: 'drand-1', vars: { base: { security_updates: 'later' } } })).toThrow(/security_updates/);
  });

  test('scheduled restarts reach the resource; a name that is not a service is refused', () => {
    const r = find(build({ host: 'drand-1', vars: { base: { scheduled_restarts: ['drand.service'] } } }), SEC);
    expect(r.diff({ lists: { refreshed: 1, stale: false }, pending: [], onReplaced: ['drand.service'] } as never)).toBeNull();
    expect(r.apply({ lists: { refreshed: 1, stale: false }, pending: [], onReplaced: [] } as never)).toContain('case " drand.service dbus.service systemd-logind.service "');
    expect(() => build({ host: 'drand-1', vars: { base: { scheduled_restarts: ['drand; reboot'] } } })).toThrow(/scheduled_restarts/);
  });

  test('the legal banner: shown by sshd before login and on the console; a token banner is refused', () => {
    const b = build({ host: 'drand-1' });
    expect(directives(tpl(b, 'base/sshd.conf'))).toContain('Banner /etc/issue.net');
    for (const path of ['/etc/issue.net', '/etc/issue']) expect(find(b, `file:${path}`).desired).toBeDefined();
    expect(DEFAULT_BANNER).toMatch(/authorised/i);
    expect(() => build({ host: 'drand-1', vars: { base: { banner: 'hi' } } })).toThrow(/banner/);
  });

  test('network sysctls everywhere; kernel-wide ones skipped in a container only', () => {
    const b = build({ host: 'drand-2' });
    for (const k of Object.keys(NET_SYSCTLS)) expect(find(b, `sysctl:${k}`).skipIf).toBeUndefined();
    for (const k of Object.keys(KERNEL_SYSCTLS)) {
      const r = find(b, `sysctl:${k}`);
      expect(r.skipIf!(containerFacts)).toMatch(/^a container shares the kernel of the machine/);
      expect(r.skipIf!(vmFacts)).toBeNull();
    }
    expect(KERNEL_SYSCTLS['fs.suid_dumpable']).toBe(0);
  });

  test('forwarding off (CIS 3.3.1) comes before every other network sysctl, in apply order and in sysctl.d name order', () => {
    const b = build({ host: 'bastion-1' });
    const ids = b.all.filter((r) => r.id.startsWith('sysctl:')).map((r) => r.id.slice('sysctl:'.length));
    expect(ids.slice(0, 2)).toEqual(Object.keys(FORWARDING_SYSCTLS));
    expect(FORWARDING_SYSCTLS).toEqual({ 'net.ipv4.ip_forward': 0, 'net.ipv6.conf.all.forwarding': 0 });
    const files = b.all
      .filter((r) => r.id.startsWith('sysctl:'))
      .map((r) => /\/etc\/sysctl\.d\/[^ ]+/.exec(r.diff({ file: { kind: 'missing' }, live: 'x' } as never)!.summary)![0]);
    expect(files.slice(0, 2)).toEqual(['/etc/sysctl.d/55-provision-net.ipv4.ip_forward.conf', '/etc/sysctl.d/55-provision-net.ipv6.conf.all.forwarding.conf']);
    expect([...files].sort()).toEqual(files.slice(0, 2).concat([...files.slice(2)].sort()));
    expect(files.slice(2).every((f) => f.startsWith('/etc/sysctl.d/60-provision-'))).toBe(true);
    // ip_forward sets accept_redirects again itself: that resource may be converged and not planned
    expect(find(b, 'sysctl:net.ipv4.ip_forward').apply({ file: { kind: 'file' }, live: '1' } as never)).toContain('sysctl -q -w net.ipv4.ip_forward=0 net.ipv4.conf.all.accept_redirects=0 || exit $?\n');
  });

  test('core dumps off, umask 027, accounting and the integrity timer are declared', () => {
    const b = build({ host: 'monitor-1' });
    for (const id of [
      'file:/etc/security/limits.d/10-provision-core.conf',
      'file:/etc/systemd/coredump.conf.d/10-provision.conf',
      'file:/etc/profile.d/10-provision-umask.sh',
      'apt:acct',
      'service:acct',
      'apt:debsums',
      'systemd-unit:provision-integrity.service',
      'systemd-unit:provision-integrity.timer',
      'service:provision-integrity.timer',
    ]) {
      expect(find(b, id)).toBeDefined();
    }
    expect(b.all.find((r) => r.id.startsWith('line:/etc/login.defs:'))!.apply({ kind: 'file', present: false } as never)).toContain('UMASK\t\t027');
  });

  test('login.defs: the active line of each key is set, and every other active line of it removed (shadow takes the last)', () => {
    const b = build({ host: 'drand-1' });
    const defs = b.all.filter((r) => r.id.startsWith('line:/etc/login.defs:')).map((r) => r.id.slice('line:/etc/login.defs:'.length));
    const want: Record<string, string> = { UMASK: '027', PASS_MIN_DAYS: '1', SHA_CRYPT_MIN_ROUNDS: String(SHA_CRYPT_ROUNDS), SHA_CRYPT_MAX_ROUNDS: String(SHA_CRYPT_ROUNDS) };
    // per key: its line set, and its lines with other values removed (named so in plans, not by the regex)
    expect(defs.sort()).toEqual(Object.keys(want).flatMap((k) => [`^${k}[[:space:]]`, `${k} lines with another value`]).sort());
    // what grep -E (the host's tool) removes: other values, never the wanted line nor a comment
    const grep = (ere: string, text: string) => spawnSync('grep', ['-E', ere], { input: text, encoding: 'utf8' }).stdout;
    for (const [key, value] of Object.entries(want)) {
      const remove = otherValues(key, value);
      const lines = [`${key}\t\t${value}`, `${key} ${value}`, `#\t${key}\t\t022`, `${key}\t\t022`, `${key}\t${value}0`, `${key}\t${value.slice(1)}`, `${key}\t`, `${key}X ${value}`];
      expect(grep(remove, `${lines.join('\n')}\n`)).toBe(`${[`${key}\t\t022`, `${key}\t${value}0`, `${key}\t${value.slice(1)}`, `${key}\t`].join('\n')}\n`);
    }
    // Debian's own file: the commented UMASK description is left alone, the live 022 replaced
    const present = find(b, 'line:/etc/login.defs:^UMASK[[:space:]]');
    expect(present.diff({ kind: 'file', present: false, first: { number: 151, text: 'UMASK\t\t022' } } as never)).toMatchObject({ summary: 'replace line 151 of /etc/login.defs' });
  });

  test('idle shells end, modules a server never loads are refused, sshd_config is root-only', () => {
    const b = build({ host: 'drand-1' });
    const text = (id: string) => String(find(b, id).diff({ kind: 'missing' } as never)?.diff);
    expect(text('file:/etc/profile.d/10-provision-tmout.sh')).toContain('readonly TMOUT');
    const modprobe = text(`file:${MODPROBE_FILE}`);
    for (const m of UNUSED_MODULES) {
      expect(modprobe).toContain(`install ${m} /bin/false`);
      expect(modprobe).toContain(`blacklist ${m}`);
    }
    expect(UNUSED_MODULES).toEqual(expect.arrayContaining(['usb-storage', 'dccp', 'sctp', 'rds', 'tipc', 'cramfs', 'udf']));
    // owner and mode only: Debian's content stays
    const sshd = find(b, 'file:/etc/ssh/sshd_config');
    expect(sshd.diff({ kind: 'file', owner: 'root', group: 'root', uid: 0, gid: 0, mode: '0644', size: 3000, sha256: 'x' } as never)).toMatchObject({ summary: 'update /etc/ssh/sshd_config: mode: 0644 → 0600' });
  });

  test('cron for root only: installed, its files 0600/0700 as dpkg stat overrides, allow lists root only', () => {
    const b = build({ host: 'drand-1' });
    const ids = b.all.map((r) => r.id);
    const cmd = b.all.find((r) => r.id.startsWith("command:cron's files for root only"))!;
    expect(ids.indexOf('apt:cron')).toBeLessThan(ids.indexOf(cmd.id));
    const run = String(cmd.apply({ done: false } as never));
    for (const [p, mode] of Object.entries(CRON_MODES)) {
      expect(run).toContain(`dpkg-statoverride --update --add root root ${mode} ${p}`);
      expect(cmd.probe()).toContain(`stat -c %a:%U:%G ${p}`);
    }
    expect(CRON_MODES['/etc/crontab']).toBe('0600');
    expect(find(b, 'file:/etc/cron.allow').diff({ kind: 'missing' } as never)).toMatchObject({ summary: 'create /etc/cron.allow (root:crontab 0640)' });
    expect(find(b, 'file:/etc/at.allow').diff({ kind: 'missing' } as never)).toMatchObject({ summary: 'create /etc/at.allow (root:daemon 0640)' });
    for (const deny of ['/etc/cron.deny', '/etc/at.deny']) expect(find(b, `file:${deny}`).diff({ kind: 'file' } as never)).toMatchObject({ action: 'delete' });
  });
});
