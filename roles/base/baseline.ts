// The rest of the hardened baseline every host gets, each item from a well-known baseline (CIS
// Debian Linux Benchmark, DevSec "Linux Baseline") or a seed line — docs/roles.md "base" says which.
// Kernel-wide settings are skipped in a container with the reason: its kernel is the machine's.
import * as r from '../../src/resources/index.js';
import { isContainer, type Facts } from '../../src/facts/types.js';
import { sh } from '../../src/shell/quote.js';

/** the default login banner: who may use the host, that it is monitored (CIS 1.7; no OS version) */
export const DEFAULT_BANNER =
  'Authorised access only. This system is monitored and every session is logged; ' +
  'unauthorised access is prohibited and may be prosecuted. Disconnect now if you are not authorised.';

export const INTEGRITY_SERVICE = 'provision-integrity.service';
export const INTEGRITY_TIMER = 'provision-integrity.timer';
export const INTEGRITY_SCRIPT = '/usr/local/sbin/provision-integrity-check';

/**
 * Network sysctls of the host's own network namespace (a container may set them): CIS 3.3 and
 * DevSec sysctl-01…-19 — no redirects or source routing, reverse-path filtering, martians logged,
 * SYN cookies, no answers to broadcast pings. Forwarding is FORWARDING_SYSCTLS, set before these.
 */
export const NET_SYSCTLS: Record<string, number> = {
  'net.ipv4.conf.all.accept_redirects': 0,
  'net.ipv4.conf.default.accept_redirects': 0,
  'net.ipv4.conf.all.secure_redirects': 0,
  'net.ipv4.conf.default.secure_redirects': 0,
  'net.ipv4.conf.all.send_redirects': 0,
  'net.ipv4.conf.default.send_redirects': 0,
  'net.ipv4.conf.all.accept_source_route': 0,
  'net.ipv4.conf.default.accept_source_route': 0,
  'net.ipv4.conf.all.log_martians': 1,
  'net.ipv4.conf.default.log_martians': 1,
  'net.ipv4.conf.all.rp_filter': 1,
  'net.ipv4.conf.default.rp_filter': 1,
  'net.ipv4.icmp_echo_ignore_broadcasts': 1,
  'net.ipv4.icmp_ignore_bogus_error_responses': 1,
  'net.ipv4.tcp_syncookies': 1,
  'net.ipv6.conf.all.accept_redirects': 0,
  'net.ipv6.conf.default.accept_redirects': 0,
  'net.ipv6.conf.all.accept_source_route': 0,
  'net.ipv6.conf.default.accept_source_route': 0,
};

/**
 * No packet forwarding (CIS Debian 12 3.3.1; lynis KRNL-6000 reads net.ipv4.conf.all.forwarding, the
 * same value as ip_forward): no host of the lab roles routes — the bastion relays SSH as a process
 * (ProxyJump, direct-tcpip), not as a router. A WireGuard role that routes between peers would need
 * its own decision (docs/roles.md).
 * The kernel reacts when forwarding CHANGES (net/ipv4/devinet.c inet_forward_change): it sets
 * conf.all.accept_redirects to the opposite (1 when forwarding goes off), conf.default.forwarding
 * and every interface's forwarding to the new value. IPv6 (net/ipv6/addrconf.c
 * addrconf_fixup_forwarding) sets default and per-interface forwarding only, no redirect key. So
 * these come first: earlier in apply order (and ip_forward sets accept_redirects again itself, in
 * case that resource is converged and not planned) and in an earlier sysctl.d file at boot.
 */
export const FORWARDING_SYSCTLS: Record<string, number> = {
  'net.ipv4.ip_forward': 0,
  'net.ipv6.conf.all.forwarding': 0,
};
/** their sysctl.d prefix: before base's other files (60-provision-*), so systemd-sysctl applies them first at boot */
export const FORWARDING_ORDER = 55;
/** what the kernel resets when each forwarding key changes (see above), with base's values */
export const FORWARDING_RESETS: Record<string, Record<string, number>> = {
  'net.ipv4.ip_forward': { 'net.ipv4.conf.all.accept_redirects': NET_SYSCTLS['net.ipv4.conf.all.accept_redirects']! },
  'net.ipv6.conf.all.forwarding': {},
};

/**
 * Kernel-wide sysctls (CIS 1.5, DevSec sysctl-24…-33): address-space randomisation, no kernel
 * pointers or log for users, ptrace only of one's own children, no magic SysRq, no setuid core
 * dumps, safe links, no unprivileged BPF. A container may not set them (read-only /proc/sys).
 */
export const KERNEL_SYSCTLS: Record<string, number> = {
  'kernel.randomize_va_space': 2,
  'kernel.kptr_restrict': 2,
  'kernel.dmesg_restrict': 1,
  'kernel.yama.ptrace_scope': 1,
  'kernel.sysrq': 0,
  'kernel.unprivileged_bpf_disabled': 1,
  'fs.suid_dumpable': 0,
  'fs.protected_hardlinks': 1,
  'fs.protected_symlinks': 1,
};

/** idle interactive shells end after this many seconds (CIS 5.4.3.2: at most 900) */
export const SHELL_TIMEOUT = 900;
/** SHA-crypt rounds for a password set one day (DevSec os-hardening's os_sha_crypt_min/max_rounds) */
export const SHA_CRYPT_ROUNDS = 640000;

export const MODPROBE_FILE = '/etc/modprobe.d/10-provision-unused.conf';
/**
 * Kernel modules a server never loads (CIS Debian 12 1.1.1.1–1.1.1.5 cramfs, freevxfs, hfs, hfsplus,
 * jffs2; 1.1.1.8 udf; 1.1.1.9 usb-storage; 3.2.1–3.2.4 dccp, tipc, rds, sctp). Not overlay or
 * squashfs (containers and images use them), not vfat (the EFI partition).
 */
export const UNUSED_MODULES = ['cramfs', 'freevxfs', 'hfs', 'hfsplus', 'jffs2', 'udf', 'usb-storage', 'dccp', 'tipc', 'rds', 'sctp'];

/** cron's table and job directories, root's only (CIS 2.4.1.2–2.4.1.7) */
export const CRON_MODES: Record<string, string> = {
  '/etc/crontab': '0600',
  '/etc/cron.hourly': '0700',
  '/etc/cron.daily': '0700',
  '/etc/cron.weekly': '0700',
  '/etc/cron.monthly': '0700',
  '/etc/cron.d': '0700',
};

/**
 * One setting of /etc/login.defs. shadow reads the file top to bottom and the LAST line of a key
 * wins, so the active line is set (a commented one is never taken for it) and every other active
 * line of the key with another value is removed.
 */
function loginDefs(key: string, value: string): r.Resource[] {
  return [
    r.line({ path: '/etc/login.defs', line: `${key}\t\t${value}`, match: `^${key}[[:space:]]` }),
    r.line({ path: '/etc/login.defs', line: `${key}\t\t${value}`, match: otherValues(key, value), state: 'absent', name: `${key} lines with another value` }),
  ];
}

/** An active line of the key with any value but this one (grep -E; POSIX has no negative lookahead). */
export function otherValues(key: string, value: string): string {
  if (!/^[A-Z_]+$/.test(key) || !/^[A-Za-z0-9]+$/.test(value)) throw new Error(`login.defs: unexpected key or value ${key} ${value}`);
  // the value, then: another character at some position, the value cut short, or more after it
  const other = [...value].flatMap((ch, i) => [`${value.slice(0, i)}[^${ch}[:space:]]`, `${value.slice(0, i)}[[:space:]]*$`]);
  other.push(`${value}[[:space:]]*[^[:space:]]`);
  return `^${key}[[:space:]]+(${other.join('|')})`;
}

const kernelOfMachine = (f: Facts): string | null =>
  isContainer(f) ? `a container shares the kernel of the machine it runs on and may not set kernel-wide sysctls (container: ${f.container})` : null;

export function baselineResources(banner: string): r.Resource[] {
  const text = `${banner.trim()}\n`;
  const res: r.Resource[] = [
    // --- legal banner (CIS 1.7.1–1.7.6): before login over SSH (sshd Banner) and on the console --
    r.file({ path: '/etc/issue.net', content: text }),
    r.file({ path: '/etc/issue', content: text }),

    // --- no core dumps (CIS 1.5.1; DevSec os-10): memory of a daemon holding keys never on disk --
    r.file({ path: '/etc/security/limits.d/10-provision-core.conf', content: '# Managed by provision (role base): no core dumps (CIS 1.5.1).\n* hard core 0\n* soft core 0\n' }),
    // pam_limits never applies a wildcard to root (limits.conf(5)): root needs its own lines
    r.file({ path: '/etc/security/limits.d/10-provision-core-root.conf', content: '# Managed by provision (role base): no core dumps for root either (CIS 1.5.1).\nroot hard core 0\nroot soft core 0\n' }),
    // and in every login shell, for a session pam_limits never saw (Debian's su does not load it)
    r.file({ path: '/etc/profile.d/10-provision-core.sh', content: '# Managed by provision (role base): no core dumps (CIS 1.5.1).\nulimit -c 0\n' }),
    r.directory({ path: '/etc/systemd/coredump.conf.d', owner: 'root', group: 'root', mode: '0755' }),
    r.file({ path: '/etc/systemd/coredump.conf.d/10-provision.conf', content: '# Managed by provision (role base): no core dumps (CIS 1.5.1).\n[Coredump]\nStorage=none\nProcessSizeMax=0\n' }),

    // --- default umask 027 (CIS 5.4.4; DevSec os-05): new files not world-readable --------------
    // login.defs: useradd's home directories and pam_umask; profile.d: every login shell.
    ...loginDefs('UMASK', '027'),
    r.file({ path: '/etc/profile.d/10-provision-umask.sh', content: '# Managed by provision (role base): default umask 027 (CIS 5.4.4).\numask 027\n' }),
    // --- password ageing and hashing for accounts made later (CIS 5.4.1.2; DevSec os-hardening
    // login.defs): nobody logs in with a password here, so these only bind a password someone sets
    // one day. PASS_MAX_DAYS is left alone on purpose (docs/hardening.md: an expired password locks
    // key-only logins out through pam_unix's account check).
    ...loginDefs('PASS_MIN_DAYS', '1'),
    ...loginDefs('SHA_CRYPT_MIN_ROUNDS', String(SHA_CRYPT_ROUNDS)),
    ...loginDefs('SHA_CRYPT_MAX_ROUNDS', String(SHA_CRYPT_ROUNDS)),
    // --- idle interactive shells end (CIS 5.4.3.2): 15 min at the prompt, readonly, exported -----
    r.file({
      path: '/etc/profile.d/10-provision-tmout.sh',
      content: [
        '# Managed by provision (role base): idle interactive shells end after 15 min (CIS 5.4.3.2).',
        '# Set only once: a second read of /etc/profile must not assign a readonly variable.',
        `[ "\${TMOUT:-}" = ${SHELL_TIMEOUT} ] || TMOUT=${SHELL_TIMEOUT}`,
        'readonly TMOUT',
        'export TMOUT',
        '',
      ].join('\n'),
    }),

    // --- sshd's configuration readable by root only (CIS 5.1.1); base's and the bastion's drop-ins
    // are written 0600 too. Only owner and mode: the file's content stays Debian's.
    r.file({ path: '/etc/ssh/sshd_config', mode: '0600' }),

    // --- kernel modules a server never loads (CIS 1.1.1.x file systems and USB storage, 3.2.x rare
    // network protocols): modprobe refuses them (install /bin/false) and never autoloads them -----
    // (a container's image may lack kmod, and with it the directory)
    r.directory({ path: '/etc/modprobe.d', owner: 'root', group: 'root', mode: '0755' }),
    r.file({
      path: MODPROBE_FILE,
      content: [
        '# Managed by provision (role base): kernel modules a server never loads (CIS Debian 1.1.1.x, 3.2.x).',
        ...UNUSED_MODULES.flatMap((m) => [`install ${m} /bin/false`, `blacklist ${m}`]),
        '',
      ].join('\n'),
    }),

    // --- cron and at for root only (CIS 2.4.1.1–2.4.1.8, 2.4.2.1) ------------------------------
    // cron also runs acct's daily rotation of /var/log/account/pacct. The modes are dpkg stat
    // overrides, so a cron upgrade keeps them (dpkg applies them when it unpacks the files).
    r.apt({ name: 'cron' }),
    r.service({ name: 'cron', enabled: true, running: true }),
    r.command({
      name: `cron's files for root only (dpkg-statoverride: ${Object.entries(CRON_MODES).map(([p, m]) => `${p} ${m}`).join(', ')})`,
      unless: Object.entries(CRON_MODES)
        .map(([p, m]) => `[ "$(stat -c %a:%U:%G ${sh(p)})" = ${sh(`${Number.parseInt(m, 8).toString(8)}:root:root`)} ] && dpkg-statoverride --list ${sh(p)} >/dev/null`)
        .join(' && '),
      run: Object.entries(CRON_MODES)
        .map(([p, m]) => `dpkg-statoverride --remove ${sh(p)} >/dev/null 2>&1 || true; dpkg-statoverride --update --add root root ${m} ${sh(p)}`)
        .join('\n'),
    }),
    // group crontab / daemon: crontab(1) and at(1) run setgid and must read the list to refuse others
    r.file({ path: '/etc/cron.allow', content: 'root\n', group: 'crontab', mode: '0640' }),
    r.file({ path: '/etc/cron.deny', state: 'absent' }),
    r.file({ path: '/etc/at.allow', content: 'root\n', group: 'daemon', mode: '0640' }),
    r.file({ path: '/etc/at.deny', state: 'absent' }),

    // --- process accounting (CIS 4.1 "accounting"; DevSec os-16 via acct): who ran what, when -----
    r.apt({ name: 'acct' }),
    r.service({ name: 'acct', enabled: true, running: true }),

    // --- file integrity of system binaries and configuration (CIS 1.3; seed 000 "Logs") ----------
    // debsums checks every installed file against Debian's own checksums; a timer runs it daily and
    // its report goes to the journal, so rsyslog ships it with the other logs (base.log_host).
    r.apt({ name: 'debsums' }),
    r.file({
      path: INTEGRITY_SCRIPT,
      mode: '0755',
      content: [
        '#!/bin/sh',
        '# Managed by provision (role base): file-integrity report of installed packages (debsums).',
        '# Changed package files (binaries, libraries; -c) and changed configuration files (-e) are',
        '# listed one per line; the summary line comes first. Its output is the journal.',
        'files=$(debsums -c 2>&1; debsums -ce 2>&1)',
        'n=$(printf "%s" "$files" | grep -c .)',
        'echo "integrity: $n changed package file(s) (debsums)"',
        '[ -z "$files" ] || printf "%s\\n" "$files" | sed "s/^/integrity: changed /"',
        '',
      ].join('\n'),
    }),
    r.systemdUnit({
      name: INTEGRITY_SERVICE,
      content: [
        '# Managed by provision (role base).',
        '[Unit]',
        'Description=File integrity of installed packages (debsums), reported to the journal',
        '[Service]',
        'Type=oneshot',
        `ExecStart=${INTEGRITY_SCRIPT}`,
        'SyslogIdentifier=provision-integrity',
        'Nice=19',
        'IOSchedulingClass=idle',
        '',
      ].join('\n'),
    }),
    r.systemdUnit({
      name: INTEGRITY_TIMER,
      content: ['# Managed by provision (role base).', '[Unit]', 'Description=Daily file-integrity check (debsums)', '[Timer]', 'OnCalendar=daily', 'RandomizedDelaySec=1h', 'Persistent=true', '[Install]', 'WantedBy=timers.target', ''].join('\n'),
    }),
    r.service({ name: INTEGRITY_TIMER, enabled: true, running: true }),
  ];

  // --- sysctls (CIS 3.3, 1.5; DevSec sysctl) ----------------------------------------------------
  // forwarding first: changing it resets other network keys (FORWARDING_SYSCTLS)
  for (const [key, value] of Object.entries(FORWARDING_SYSCTLS)) res.push(r.sysctl({ key, value, order: FORWARDING_ORDER, resets: FORWARDING_RESETS[key] }));
  for (const [key, value] of Object.entries(NET_SYSCTLS)) res.push(r.sysctl({ key, value }));
  for (const [key, value] of Object.entries(KERNEL_SYSCTLS)) res.push(r.sysctl({ key, value, skipIf: kernelOfMachine }));
  return res;
}
