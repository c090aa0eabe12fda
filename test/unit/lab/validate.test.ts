import { describe, test, expect } from '@jest/globals';
import { validateLabFleet, type LabFleet } from '../../../src/lab/index.js';

const fleet = (over: Partial<LabFleet> = {}): LabFleet => ({
  inventoryName: 'lab',
  bridge: 'prvlab0',
  network: '10.213.7.0/24',
  knownHosts: '/work/inventory/lab/known_hosts',
  keyPath: '/var/lib/provision/lab/id_ed25519',
  hosts: [
    { name: 'bastion-1', address: '10.213.7.10' },
    { name: 'drand-1', address: '10.213.7.21' },
  ],
  ...over,
});

const one = (over: Partial<LabFleet>) => validateLabFleet(fleet(over)).join('\n');

describe('validateLabFleet', () => {
  test('the lab inventory shape is valid', () => {
    expect(validateLabFleet(fleet())).toEqual([]);
  });

  test('two hosts with one address', () => {
    const msg = one({ hosts: [{ name: 'a', address: '10.213.7.10' }, { name: 'b', address: '10.213.7.10' }] });
    expect(msg).toMatch(/hosts a and b both have address 10\.213\.7\.10/);
  });

  test('a public address is refused, even in a public network', () => {
    expect(one({ hosts: [{ name: 'a', address: '8.8.8.8' }] })).toMatch(/a: address 8\.8\.8\.8 is not an RFC 1918 private address/);
    expect(one({ network: '8.8.8.0/24', hosts: [{ name: 'a', address: '8.8.8.10' }] })).toMatch(/network "8\.8\.8\.0\/24" is not inside an RFC 1918/);
  });

  test('a network straddling a private range is refused', () => {
    expect(one({ network: '172.0.0.0/8', hosts: [{ name: 'a', address: '172.16.0.5' }] })).toMatch(/not inside an RFC 1918/);
  });

  test('an address outside the fleet network', () => {
    expect(one({ hosts: [{ name: 'a', address: '10.213.8.10' }] })).toMatch(/a: address 10\.213\.8\.10 is outside the lab network 10\.213\.7\.0\/24/);
  });

  test('the gateway, network and broadcast addresses are not host addresses', () => {
    expect(one({ hosts: [{ name: 'gw', address: '10.213.7.1' }] })).toMatch(/gw: address 10\.213\.7\.1 is the lab gateway/);
    expect(one({ hosts: [{ name: 'n', address: '10.213.7.0' }] })).toMatch(/network address/);
    expect(one({ hosts: [{ name: 'b', address: '10.213.7.255' }] })).toMatch(/broadcast address/);
  });

  test('bridge names: at most 15 characters of [a-z0-9_-]', () => {
    expect(one({ bridge: 'prvlab0-way-too-long' })).toMatch(/bridge name "prvlab0-way-too-long" must be 1-15 characters/);
    expect(one({ bridge: 'PrvLab0' })).toMatch(/bridge name "PrvLab0"/);
    expect(one({ bridge: 'br;rm' })).toMatch(/bridge name/);
    expect(one({ bridge: '' })).toMatch(/bridge name/);
    expect(validateLabFleet(fleet({ bridge: 'a_b-0123456789z' }))).toEqual([]); // exactly 15
  });

  test('malformed networks and addresses', () => {
    expect(one({ network: '10.213.7.5/24' })).toMatch(/host bits set: did you mean 10\.213\.7\.0\/24/);
    expect(one({ network: '10.213.7.0' })).toMatch(/not an IPv4 CIDR/);
    expect(one({ hosts: [{ name: 'a', address: '10.213.7.010' }] })).toMatch(/"10\.213\.7\.010" is not an IPv4 address/);
    expect(one({ hosts: [{ name: 'a', address: '10.213.7.256' }] })).toMatch(/not an IPv4 address/);
  });

  test('host and inventory names must be safe as directory and host names', () => {
    expect(one({ hosts: [{ name: '../etc', address: '10.213.7.10' }] })).toMatch(/host name "\.\.\/etc" must be a DNS label/);
    expect(one({ inventoryName: '../x' })).toMatch(/inventory name/);
    expect(one({ hosts: [{ name: 'a', address: '10.213.7.10' }, { name: 'a', address: '10.213.7.11' }] })).toMatch(/host name "a" appears 2 times/);
  });

  test('paths must be absolute', () => {
    expect(one({ knownHosts: 'known_hosts' })).toMatch(/knownHosts "known_hosts" must be an absolute path/);
    expect(one({ keyPath: 'id' })).toMatch(/keyPath "id" must be an absolute path/);
  });

  test('every problem is reported at once', () => {
    const errs = validateLabFleet(fleet({ bridge: 'BAD', hosts: [{ name: 'a', address: '10.213.7.1' }, { name: 'b', address: '1.2.3.4' }] }));
    expect(errs.length).toBeGreaterThanOrEqual(3);
  });
});

describe('missing prerequisites', () => {
  test('the error names the Debian packages and the flag', async () => {
    const { missingDepsMessage, LAB_TOOLS } = await import('../../../src/lab/prereqs.js');
    const msg = missingDepsMessage(['debootstrap', 'systemd-container']);
    expect(msg).toContain('apt-get install -y debootstrap systemd-container');
    expect(msg).toContain('--install-deps');
    expect(LAB_TOOLS.find((t) => t.command === 'systemd-nspawn')?.pkg).toBe('systemd-container');
    expect(LAB_TOOLS.find((t) => t.command === 'nft')?.pkg).toBe('nftables');
  });
});
