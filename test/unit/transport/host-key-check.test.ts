import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { HostKeyChangedError, HostKeyRevokedError, HostKeyUnknownError } from '../../../src/transport/errors.js';
import { checkHostKey } from '../../../src/transport/host-key-check.js';
import { fingerprint, loadKnownHosts } from '../../../src/transport/known-hosts.js';

const fixtures = path.join(process.cwd(), 'test/fixtures/transport');
const file = path.join(fixtures, 'known_hosts');

function blob(name: string): Buffer {
  const [, b64] = readFileSync(path.join(fixtures, 'keys', `${name}.pub`), 'utf8').split(' ');
  return Buffer.from(b64 as string, 'base64');
}

describe('checkHostKey', () => {
  test('a known key passes', async () => {
    const kh = await loadKnownHosts(file);
    expect(checkHostKey(kh, { host: 'drand-1', address: '10.213.7.21', port: 22 }, blob('drand1'))).toBeNull();
  });

  test('unknown host: names host, address, file, expected entry and the presented key', async () => {
    const kh = await loadKnownHosts(file);
    const err = checkHostKey(kh, { host: 'drand-9', address: '10.213.7.99', port: 22 }, blob('drand1'));
    expect(err).toBeInstanceOf(HostKeyUnknownError);
    expect(err?.host).toBe('drand-9');
    expect(err?.message).toBe(
      `host key of drand-9 (10.213.7.99:22) is not in test/fixtures/transport/known_hosts; ` +
        `expected an entry for 10.213.7.99 — got ssh-ed25519 ${fingerprint(blob('drand1'))}`,
    );
  });

  test('unknown on a non-standard port asks for the bracket form', async () => {
    const kh = await loadKnownHosts(file);
    const err = checkHostKey(kh, { host: 'drand-1', address: '10.213.7.21', port: 2222 }, blob('drand1'));
    expect(err?.message).toContain('expected an entry for [10.213.7.21]:2222');
  });

  test('changed key: HOST KEY CHANGED with the file and both fingerprints', async () => {
    const kh = await loadKnownHosts(file);
    const err = checkHostKey(kh, { host: 'drand-1', address: '10.213.7.21', port: 22 }, blob('other'));
    expect(err).toBeInstanceOf(HostKeyChangedError);
    expect(err?.message).toMatch(/^HOST KEY CHANGED for drand-1 \(10\.213\.7\.21:22\): test\/fixtures\/transport\/known_hosts expects/);
    expect(err?.message).toContain(`${fingerprint(blob('drand1'))} (line 3)`);
    expect(err?.message).toContain(`presented ssh-ed25519 ${fingerprint(blob('other'))}`);
  });

  test('revoked key is refused', async () => {
    const kh = await loadKnownHosts(file);
    const err = checkHostKey(kh, { host: 'drand-1', address: '10.213.7.21', port: 22 }, blob('revoked'));
    expect(err).toBeInstanceOf(HostKeyRevokedError);
    expect(err?.message).toContain('REVOKED (test/fixtures/transport/known_hosts line 10)');
  });

  test('a missing known_hosts file makes every host unknown, and says so', async () => {
    const kh = await loadKnownHosts(path.join(fixtures, 'no-such-known_hosts'));
    expect(kh.exists).toBe(false);
    const err = checkHostKey(kh, { host: 'drand-1', address: '10.213.7.21', port: 22 }, blob('drand1'));
    expect(err).toBeInstanceOf(HostKeyUnknownError);
    expect(err?.message).toContain('(the file does not exist)');
  });

  test('a host matched only by @cert-authority is unknown, with the reason', async () => {
    const kh = await loadKnownHosts(file);
    const err = checkHostKey(kh, { host: 'n', address: 'node.lab', port: 22 }, blob('ca'));
    expect(err?.message).toContain('host certificates are not supported');
  });
});
