import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  blobKeyType,
  fingerprint,
  hostFieldMatches,
  knownHostName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  verifyHostKey,
} from '../../../src/transport/known-hosts.js';

const fixtures = path.join(process.cwd(), 'test/fixtures/transport');
// The fixture file was written by hand from keys/*.pub; its hashed lines come from `ssh-keygen -H`.
const entries = parseKnownHosts(readFileSync(path.join(fixtures, 'known_hosts'), 'utf8'));

/** The raw key blob of a fixture public key, as ssh2's hostVerifier would receive it. */
function blob(name: string): Buffer {
  const [, b64] = readFileSync(path.join(fixtures, 'keys', `${name}.pub`), 'utf8').split(' ');
  return Buffer.from(b64 as string, 'base64');
}

describe('parseKnownHosts', () => {
  test('keeps well-formed lines with their line numbers and markers, skips comments and malformed lines', () => {
    expect(entries.map((e) => [e.line, e.marker ?? '', e.keyType])).toEqual([
      [3, '', 'ssh-ed25519'],
      [4, '', 'ecdsa-sha2-nistp256'],
      [5, '', 'ssh-ed25519'],
      [6, '', 'ssh-rsa'],
      [7, '', 'ssh-ed25519'],
      [8, '', 'ssh-ed25519'],
      [9, '', 'ssh-ed25519'],
      [10, 'revoked', 'ssh-ed25519'],
      [11, 'cert-authority', 'ssh-ed25519'],
    ]);
  });

  test('decodes the key to the raw blob', () => {
    expect(entries[0]?.key.equals(blob('drand1'))).toBe(true);
  });

  test('skips a line whose key type disagrees with its blob, and unknown markers', () => {
    const ed = readFileSync(path.join(fixtures, 'keys/drand1.pub'), 'utf8').split(' ')[1];
    expect(parseKnownHosts(`h1 ssh-rsa ${ed}\n@bogus h2 ssh-ed25519 ${ed}\nh3 ssh-ed25519 ${ed}\r\n`)).toHaveLength(1);
  });
});

describe('host name matching', () => {
  test('port 22 uses the bare address, other ports the bracket form', () => {
    expect(knownHostName('10.213.7.21', 22)).toBe('10.213.7.21');
    expect(knownHostName('10.213.7.22', 2222)).toBe('[10.213.7.22]:2222');
  });

  test('comma lists, case-insensitive', () => {
    expect(hostFieldMatches('bastion-1.lab,10.213.7.1', '10.213.7.1')).toBe(true);
    expect(hostFieldMatches('bastion-1.lab,10.213.7.1', 'BASTION-1.lab')).toBe(true);
    expect(hostFieldMatches('bastion-1.lab,10.213.7.1', '10.213.7.11')).toBe(false);
  });

  test('wildcards and negation', () => {
    expect(hostFieldMatches('10.213.7.3?,!10.213.7.39', '10.213.7.31')).toBe(true);
    expect(hostFieldMatches('10.213.7.3?,!10.213.7.39', '10.213.7.39')).toBe(false);
    expect(hostFieldMatches('10.213.7.3?', '10.213.7.3')).toBe(false);
    expect(hostFieldMatches('*.lab', 'a.b.lab')).toBe(true);
    expect(hostFieldMatches('10.213.7.*', '10x213.7.5')).toBe(false); // dots are literal
  });

  test('a bare entry does not match the same address on another port', () => {
    expect(verifyHostKey(entries, '[10.213.7.21]:2222', blob('drand1')).kind).toBe('unknown');
  });

  test('hashed entries (written by ssh-keygen -H), plain and port form', () => {
    const hashed = entries.filter((e) => e.hosts.startsWith('|1|'));
    expect(hashed).toHaveLength(2);
    expect(hostFieldMatches(hashed[0]!.hosts, '10.213.7.23')).toBe(true);
    expect(hostFieldMatches(hashed[0]!.hosts, '10.213.7.24')).toBe(false);
    expect(hostFieldMatches(hashed[1]!.hosts, '[10.213.7.24]:2200')).toBe(true);
    expect(hostFieldMatches(hashed[1]!.hosts, '10.213.7.24')).toBe(false);
  });
});

describe('verifyHostKey', () => {
  test('plain entry, same key: match', () => {
    expect(verifyHostKey(entries, '10.213.7.21', blob('drand1'))).toMatchObject({ kind: 'match', entry: { line: 3 } });
  });

  test('port form: match', () => {
    expect(verifyHostKey(entries, '[10.213.7.22]:2222', blob('relay'))).toMatchObject({ kind: 'match', entry: { line: 4 } });
  });

  test('hashed entry: match', () => {
    expect(verifyHostKey(entries, '10.213.7.23', blob('hashed'))).toMatchObject({ kind: 'match', entry: { line: 7 } });
    expect(verifyHostKey(entries, '[10.213.7.24]:2200', blob('hashed'))).toMatchObject({ kind: 'match', entry: { line: 8 } });
  });

  test('a host with two keys on file accepts either', () => {
    expect(verifyHostKey(entries, '10.213.7.1', blob('bastion'))).toMatchObject({ kind: 'match', entry: { line: 5 } });
    expect(verifyHostKey(entries, '10.213.7.1', blob('rsa'))).toMatchObject({ kind: 'match', entry: { line: 6 } });
  });

  test('missing host: unknown', () => {
    expect(verifyHostKey(entries, '10.213.7.99', blob('drand1'))).toEqual({ kind: 'unknown', certAuthority: false });
  });

  test('only a @cert-authority line matches: unknown, flagged', () => {
    expect(verifyHostKey(entries, 'node.lab', blob('ca'))).toEqual({ kind: 'unknown', certAuthority: true });
  });

  test('a different key: changed, entries of the presented type first', () => {
    const v = verifyHostKey(entries, '10.213.7.1', blob('other'));
    expect(v.kind).toBe('changed');
    if (v.kind === 'changed') expect(v.expected.map((e) => e.line)).toEqual([5, 6]);
    expect(verifyHostKey(entries, '10.213.7.21', blob('relay')).kind).toBe('changed');
  });

  test('@revoked refuses the key for any host, even one that lists it', () => {
    const revoked = blob('revoked');
    expect(verifyHostKey(entries, '10.213.7.21', revoked)).toMatchObject({ kind: 'revoked', entry: { line: 10 } });
    const listed = parseKnownHosts(`10.9.9.9 ssh-ed25519 ${revoked.toString('base64')}\n@revoked * ssh-ed25519 ${revoked.toString('base64')}`);
    expect(verifyHostKey(listed, '10.9.9.9', revoked).kind).toBe('revoked');
  });
});

describe('key helpers', () => {
  test('fingerprint matches ssh-keygen -l', () => {
    // `ssh-keygen -lf test/fixtures/transport/keys/drand1.pub`, recorded when the fixture was made
    const expected = readFileSync(path.join(fixtures, 'keys/drand1.fingerprint'), 'utf8').trim();
    expect(fingerprint(blob('drand1'))).toBe(expected);
  });

  test('blobKeyType reads the type inside the blob', () => {
    expect(blobKeyType(blob('relay'))).toBe('ecdsa-sha2-nistp256');
    expect(blobKeyType(Buffer.from([0, 0]))).toBe('');
  });

  test('preferred host key algorithms follow the types on file', () => {
    expect(preferredHostKeyAlgorithms(entries, '10.213.7.1')).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms(entries, '10.213.7.99')).toEqual([]);
  });
});
