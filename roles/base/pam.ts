// The PAM stacks Debian ships, per release: the rule lines (comments left out) of the files a
// role hardens, as found on fresh Debian 12 and 13 hosts (debootstrap + openssh-server, the lab's
// base; openssh-server's /etc/pam.d/sshd, util-linux's su, libpam-runtime's common-* as
// pam-auth-update writes them). A pam-stack resource accepts these and the roles' own lines; any
// other line is foreign (docs/roles.md "PAM stacks").
import type { Release } from '../../src/facts/release.js';

// profiles of packages most Debian hosts have and the lab's minimal base has not, as pam-auth-update
// writes them (seen on this project's own Debian 12 machine): libpam-systemd, libpam-cap
const SYSTEMD_SESSION = 'session optional pam_systemd.so';
const CAP_AUTH = 'auth optional pam_cap.so';

const COMMON = {
  'common-auth': ['auth [success=1 default=ignore] pam_unix.so nullok', 'auth requisite pam_deny.so', 'auth required pam_permit.so', CAP_AUTH],
  'common-account': ['account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so', 'account requisite pam_deny.so', 'account required pam_permit.so'],
  'common-password': ['password [success=1 default=ignore] pam_unix.so obscure yescrypt', 'password requisite pam_deny.so', 'password required pam_permit.so'],
};

const SESSION_12 = ['session [default=1] pam_permit.so', 'session requisite pam_deny.so', 'session required pam_permit.so', 'session required pam_unix.so'];
// Debian 13 adds pam_umask to both session files
const SESSION_13 = [...SESSION_12, 'session optional pam_umask.so'];

const sshd = (env: string): string[] => [
  '@include common-auth',
  'account required pam_nologin.so',
  '@include common-account',
  'session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close',
  'session required pam_loginuid.so',
  'session optional pam_keyinit.so force revoke',
  '@include common-session',
  'session optional pam_motd.so motd=/run/motd.dynamic',
  'session optional pam_motd.so noupdate',
  'session optional pam_mail.so standard noenv',
  'session required pam_limits.so',
  'session required pam_env.so',
  env,
  'session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so open',
  '@include common-password',
];

const SU = [
  'auth sufficient pam_rootok.so',
  'session required pam_env.so readenv=1',
  'session required pam_env.so readenv=1 envfile=/etc/default/locale',
  'session optional pam_mail.so nopen',
  'session required pam_limits.so',
  '@include common-auth',
  '@include common-account',
  '@include common-session',
];

/** file name under /etc/pam.d → Debian's rule lines there, on `release` */
export function debianPam(release: Release): Record<string, string[]> {
  const session = release === 'debian-12' ? SESSION_12 : SESSION_13;
  return {
    sshd: sshd(release === 'debian-12' ? 'session required pam_env.so user_readenv=1 envfile=/etc/default/locale' : 'session required pam_env.so envfile=/etc/default/locale'),
    su: [...SU],
    ...COMMON,
    'common-session': [...session, SYSTEMD_SESSION],
    'common-session-noninteractive': [...session],
  };
}

/** the session audit line base writes into /etc/pam.d/sshd on real hosts (roles/base/role.ts) */
export const TTY_AUDIT_LINE = 'session required pam_tty_audit.so enable=*';
