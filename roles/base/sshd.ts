// sshd drop-ins: shared by the base role (10-provision.conf) and the bastion role (20-bastion.conf).
import { sh } from '../../src/shell/quote.js';
import { reloadHandler } from '../../src/resources/index.js';
import type { Release } from '../../src/facts/release.js';

export const SSHD_DROPIN_DIR = '/etc/ssh/sshd_config.d';
/** the bastion role's drop-in (base quarantines what is not provision's there: it must know this one) */
export const BASTION_DROPIN = '20-bastion.conf';
/** the handler every sshd change notifies (defined by base; handler names are global per host) */
export const RELOAD_SSH = 'reload ssh';
/** the Unix group whose members must use key + TOTP on a bastion (role bastion) */
export const OPERATORS_GROUP = 'operators';
/**
 * base's group of the accounts that log in over SSH (AllowGroups, CIS Debian 12 5.1.4): the
 * controller's login user is made a member; on a bastion the operators group is allowed beside it.
 */
export const SSH_USERS_GROUP = 'ssh-users';

/**
 * A `validate` for r.file that checks the WHOLE sshd configuration as it will be once the candidate
 * drop-in is in place — `sshd -t -f %s` on the drop-in alone would not see the main file (HostKey,
 * Subsystem…) nor a Match block that breaks the lines after it. A throw-away wrapper includes the
 * candidate, then the real sshd_config (which includes the other drop-ins, and the old copy of
 * this one: harmless, the first value read wins and the candidate is read first).
 * Runs in the subshell the file resource gives it; %s is the temp file (the only %s allowed).
 */
export function sshdValidate(): string {
  return [
    `c=%s`,
    `w=$(mktemp) || exit 1`,
    `{ echo "Include $c"; echo 'Include /etc/ssh/sshd_config'; } >"$w"`,
    `/usr/sbin/sshd -t -f "$w"; rc=$?`,
    `rm -f -- "$w"`,
    `exit $rc`,
  ].join('\n');
}

/**
 * SSH cryptography sshd offers (seed 003 "Securing SSH logins"; DevSec ssh-baseline and
 * ssh-audit's hardening guide for OpenSSH 9): no NIST-curve key exchange, no SHA-1, no
 * encrypt-and-MAC, no 64-bit tags. Every list keeps algorithms the controller's ssh2 supports
 * (test/unit/roles/sshd-crypto.test.ts checks it against ssh2's own tables) and that OpenSSH ≥ 7.3
 * clients offer. Names are those OpenSSH 9.2 (Debian 12) knows: sshd -t refuses an unknown one.
 */
export const SSH_CRYPTO = {
  // post-quantum hybrid first, then X25519; finite-field groups ≥ 4096 bits for clients without X25519
  KexAlgorithms: ['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'diffie-hellman-group18-sha512', 'diffie-hellman-group16-sha512'],
  // AEAD only: no CBC, no encrypt-and-MAC construction at all
  Ciphers: ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com'],
  // encrypt-then-MAC with tags of 128 bits or more (used by no cipher above, offered for completeness)
  MACs: ['hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'umac-128-etm@openssh.com'],
  // the host key types a host presents: Ed25519, and RSA signing with SHA-2 (never ssh-rsa/SHA-1, no NIST curve)
  HostKeyAlgorithms: [
    'ssh-ed25519',
    'ssh-ed25519-cert-v01@openssh.com',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'rsa-sha2-512-cert-v01@openssh.com',
    'rsa-sha2-256-cert-v01@openssh.com',
  ],
  // user keys: no ssh-rsa (SHA-1) signatures; ECDSA and FIDO (sk-) keys stay, operators' hardware keys are often those
  PubkeyAcceptedAlgorithms: [
    'ssh-ed25519',
    'ssh-ed25519-cert-v01@openssh.com',
    'sk-ssh-ed25519@openssh.com',
    'sk-ssh-ed25519-cert-v01@openssh.com',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'rsa-sha2-512-cert-v01@openssh.com',
    'rsa-sha2-256-cert-v01@openssh.com',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'sk-ecdsa-sha2-nistp256@openssh.com',
  ],
} as const;

/**
 * Key exchanges a release's OpenSSH adds in front of SSH_CRYPTO's: OpenSSH 10 (Debian 13) makes the
 * ML-KEM hybrid its default (FIPS 203 with X25519, like sntrup but standardised); OpenSSH 9.2's
 * `sshd -t` refuses the name, so Debian 12 goes without it.
 */
export const KEX_FIRST: Readonly<Partial<Record<Release, readonly string[]>>> = { 'debian-13': ['mlkem768x25519-sha256'] };

/** SSH_CRYPTO as the host's release writes it. */
export const sshCrypto = (release: Release): { [K in keyof typeof SSH_CRYPTO]: readonly string[] } => ({
  ...SSH_CRYPTO,
  KexAlgorithms: [...(KEX_FIRST[release] ?? []), ...SSH_CRYPTO.KexAlgorithms],
});

/** the crypto lines of the base drop-in, as sshd_config writes them */
export const sshCryptoLines = (release: Release): string =>
  Object.entries(sshCrypto(release))
    .map(([k, v]) => `${k} ${v.join(',')}`)
    .join('\n');

/** the reload handler: never reload an sshd whose configuration does not parse */
export const reloadSsh = reloadHandler('ssh', { check: '/usr/sbin/sshd -t' });

/** sshd -T for a given connection, for health checks: prints the effective settings */
export function sshdEffective(user: string, addr: string): string {
  return `/usr/sbin/sshd -T -C ${sh(`user=${user},host=health-check,addr=${addr}`)}`;
}

/** how `sshd -T` prints a value a drop-in writes differently (OpenSSH 9.2) */
const SHOWN_AS: Record<string, Record<string, string>> = { permitrootlogin: { 'prohibit-password': 'without-password' } };

/**
 * The settings a drop-in makes for every connection (its lines before any Match block), as
 * `sshd -T` prints them: lowercase keyword → value. What sshd must report in effect.
 */
export function sshdSettings(content: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (/^match\s/i.test(line)) break;
    const m = /^([A-Za-z]+)\s+(.+)$/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const k = m[1]!.toLowerCase();
    if (k in out) continue; // sshd keeps the first value
    out[k] = SHOWN_AS[k]?.[m[2]!] ?? m[2]!;
  }
  return out;
}

/** For a diff: what the role requires for the keyword of an sshd_config line, if it sets it. */
export const sshdRequires = (settings: Record<string, string>) => (line: string): string | undefined => {
  const k = /^\s*([A-Za-z]+)\s/.exec(line)?.[1]?.toLowerCase();
  return k && settings[k] !== undefined ? `${k} ${settings[k]}` : undefined;
};
