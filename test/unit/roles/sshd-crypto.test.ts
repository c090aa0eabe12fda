// The SSH cryptography base offers (roles/base/sshd.ts SSH_CRYPTO) against what the controller's
// SSH library (ssh2) can speak, read from ssh2's own tables — a list the controller cannot use
// would lock it out on the next reconnect.
import { createRequire } from 'node:module';
import { describe, test, expect } from '@jest/globals';
import { build, tpl } from './helpers.js';
import { SSH_CRYPTO, sshCrypto } from '../../../roles/base/sshd.js';
import { SUPPORTED_RELEASES } from '../../../src/facts/release.js';

const ssh2 = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, string[]>;

const sshdLines = (conf: string): Map<string, string> =>
  new Map(conf.split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]));

describe('base: SSH cryptography', () => {
  test.each(SUPPORTED_RELEASES)('the controller (ssh2) shares at least one algorithm of each kind, among its defaults (%s)', (release) => {
    const common = (ours: readonly string[], theirs: string[]) => ours.filter((a) => theirs.includes(a));
    const crypto = sshCrypto(release);
    expect(common(crypto.KexAlgorithms, ssh2.DEFAULT_KEX!)).toEqual(expect.arrayContaining(['curve25519-sha256']));
    expect(common(SSH_CRYPTO.Ciphers, ssh2.DEFAULT_CIPHER!)).toEqual(expect.arrayContaining(['aes256-gcm@openssh.com', 'aes128-gcm@openssh.com']));
    expect(common(SSH_CRYPTO.MACs, ssh2.DEFAULT_MAC!).length).toBeGreaterThan(0);
    expect(common(SSH_CRYPTO.HostKeyAlgorithms, ssh2.DEFAULT_SERVER_HOST_KEY!)).toEqual(expect.arrayContaining(['ssh-ed25519', 'rsa-sha2-512']));
    // the controller's own key (lab and prod use Ed25519) is accepted
    expect(SSH_CRYPTO.PubkeyAcceptedAlgorithms).toContain('ssh-ed25519');
  });

  test('nothing an auditor fails or warns about: no NIST-curve kex, no SHA-1, no encrypt-and-MAC, no 64-bit tag, no CBC', () => {
    const all = SUPPORTED_RELEASES.flatMap((release) => Object.values(sshCrypto(release)).flat());
    for (const a of all) expect(a).not.toMatch(/^ecdh-sha2-|-sha1|^ssh-rsa$|^ssh-dss|-cbc|arcfour|3des|umac-64|hmac-md5|-96$/);
    for (const m of SSH_CRYPTO.MACs) expect(m).toMatch(/-etm@openssh\.com$/);
    for (const k of [...SSH_CRYPTO.HostKeyAlgorithms]) expect(k).not.toMatch(/nistp/);
    // a post-quantum hybrid first: sntrup on OpenSSH 9.2 (Debian 12); OpenSSH 10's ML-KEM hybrid,
    // then sntrup, on Debian 13 (9.2's sshd -t refuses the ML-KEM name)
    expect(sshCrypto('debian-12').KexAlgorithms.slice(0, 1)).toEqual(['sntrup761x25519-sha512@openssh.com']);
    expect(sshCrypto('debian-12').KexAlgorithms).not.toContain('mlkem768x25519-sha256');
    expect(sshCrypto('debian-13').KexAlgorithms.slice(0, 2)).toEqual(['mlkem768x25519-sha256', 'sntrup761x25519-sha512@openssh.com']);
    // the rest is the same on both
    expect({ ...sshCrypto('debian-13'), KexAlgorithms: [] }).toEqual({ ...sshCrypto('debian-12'), KexAlgorithms: [] });
    expect(sshCrypto('debian-12')).toEqual(SSH_CRYPTO);
  });

  test.each(SUPPORTED_RELEASES)('the drop-in writes them before any Match block (so they hold for every connection), compression off (%s)', (release) => {
    const conf = tpl(build({ host: 'drand-1', release }), 'base/sshd.conf');
    const lines = sshdLines(conf.split(/^Match /m)[0]!);
    for (const [k, v] of Object.entries(sshCrypto(release))) expect(lines.get(k)).toBe(v.join(','));
    expect(lines.get('Compression')).toBe('no');
  });

  test('the in-effect check compares them with sshd -T', () => {
    const b = build({ host: 'drand-1' });
    const r = b.all.find((x) => x.id.startsWith('sshd-effective:'))!;
    // an sshd still offering Debian's defaults (NIST kex, umac-64) is a change
    const d = r.diff(r.parse('port 22\nkexalgorithms ecdh-sha2-nistp256,curve25519-sha256\nmacs umac-64-etm@openssh.com\ncompression yes\n', 0));
    expect(d?.summary).toMatch(/kexalgorithms/);
    expect(d?.summary).toMatch(/compression/);
  });
});
