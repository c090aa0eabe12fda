// The rest of the hardened baseline every host gets, each item from a well-known baseline (CIS
// Debian Linux Benchmark, DevSec "Linux Baseline") or a seed line — docs/roles.md "base" says which.
// Kernel-wide settings are skipped in a container with the reason: its kernel is the machine's.
import * as r from '../../src/resources/index.js';
import { isContainer, type Facts } from '../../src/facts/types.js';

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
 * SYN cookies, no answers to broadcast pings.
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
    r.directory({ path: '/etc/systemd/coredump.conf.d', owner: 'root', group: 'root', mode: '0755' }),
    r.file({ path: '/etc/systemd/coredump.conf.d/10-provision.conf', content: '# Managed by provision (role base): no core dumps (CIS 1.5.1).\n[Coredump]\nStorage=none\nProcessSizeMax=0\n' }),

    // --- default umask 027 (CIS 5.4.4; DevSec os-05): new files not world-readable --------------
    // login.defs: useradd's home directories and pam_umask; profile.d: every login shell.
    r.line({ path: '/etc/login.defs', line: 'UMASK\t\t027', match: '^#?[[:space:]]*UMASK[[:space:]]' }),
    r.file({ path: '/etc/profile.d/10-provision-umask.sh', content: '# Managed by provision (role base): default umask 027 (CIS 5.4.4).\numask 027\n' }),

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
  for (const [key, value] of Object.entries(NET_SYSCTLS)) res.push(r.sysctl({ key, value }));
  for (const [key, value] of Object.entries(KERNEL_SYSCTLS)) res.push(r.sysctl({ key, value, skipIf: kernelOfMachine }));
  return res;
}
