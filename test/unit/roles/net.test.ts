// src/roles/net.ts: the one module for addresses (through ipaddr.js) and the schemas roles take them with.
import { describe, test, expect } from '@jest/globals';
import { cidrContains, gatewayOf, parseCidr, Port, resolveSources, Source } from '../../../src/roles/net.js';

describe('addresses', () => {
  test('strict forms only; host bits in a CIDR are a typo; IPv6 normalised (RFC 5952)', () => {
    expect(parseCidr('10.0.0.0/8')?.text).toBe('10.0.0.0/8');
    expect(parseCidr('10.0.0.1/32')?.text).toBe('10.0.0.1');
    expect(parseCidr('10.0.0.1/8')).toBeNull();
    expect(parseCidr('10.1')).toBeNull();
    expect(parseCidr('0x0a.0.0.1')).toBeNull();
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('2001:DB8:0:0::1')?.text).toBe('2001:db8::1');
    expect(parseCidr('2001:db8::1/32')).toBeNull();
    expect(parseCidr('2001:db8::/32')).toMatchObject({ family: 6, text: '2001:db8::/32', prefix: 32 });
    expect(parseCidr('monitor-1')).toBeNull();
  });

  test('containment, IPv4 and IPv6 alike; never across families', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8')!, parseCidr('10.213.97.11')!)).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8')!, parseCidr('11.0.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32')!, parseCidr('2001:db8:1::/48')!)).toBe(true);
    expect(cidrContains(parseCidr('::/0')!, parseCidr('10.0.0.1')!)).toBe(false);
  });

  test('a list keeps only the widest networks (nftables refuses overlapping intervals), IPv6 too', () => {
    const hosts = [{ name: 'mon', address: '192.0.2.7', groups: [], roles: [], provider: 'lab' }];
    expect(resolveSources(['192.0.2.0/24', 'mon', '2001:db8::/32', '2001:db8::5', '2001:db8::/32'], hosts, 'x').map((c) => c.text)).toEqual(['192.0.2.0/24', '2001:db8::/32']);
    expect(() => resolveSources(['::/0'], hosts, 'base.ssh_from')).toThrow(/whole internet/);
  });

  test('the lab gateway: the first address of the network', () => {
    expect(gatewayOf('10.213.97.0/24')).toBe('10.213.97.1');
    expect(gatewayOf('10.213.97.77/24')).toBe('10.213.97.1');
    expect(gatewayOf('172.16.0.0/12')).toBe('172.16.0.1');
  });

  test('schemas: a source, a port', () => {
    expect(Source('who')).toMatchObject({ type: 'string', maxLength: 253, description: 'who' });
    expect(Port(514)).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535, default: 514 });
    expect('default' in Port()).toBe(false);
  });
});
