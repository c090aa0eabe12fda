// Addresses in firewall openings and vars — IPv4/IPv6 addresses and CIDRs, or inventory host names
// (resolved to the host's address, so an address is written down once: in hosts.yaml) — and the
// schemas roles take them with (sources, ports, host:port). The one place for address handling:
// parsing and containment go through ipaddr.js (IPv4 and IPv6 alike), not hand-written arithmetic.
import ipaddr from 'ipaddr.js';
import { Type } from '@sinclair/typebox';
import type { HostView } from './types.js';

/**
 * A source token any role may put in an opening's `from`: the base role replaces it with its own
 * `base.monitoring` list when it renders the firewall. Roles with a metrics endpoint use it so the
 * monitoring addresses are written once (in base's vars), not once per role.
 */
export const MONITORING = '@monitoring';

/** What a vars schema accepts for a source: an address, a CIDR or an inventory host name. */
export const SOURCE_PATTERN = '^[A-Za-z0-9:][A-Za-z0-9.:/_-]*$';

/** A source in a vars schema: an address, a CIDR or an inventory host name. */
export const Source = (description?: string) => Type.String({ pattern: SOURCE_PATTERN, maxLength: 253, ...(description ? { description } : {}) });

/** A TCP/UDP port in a vars schema. */
export const Port = (def?: number, description?: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, ...(def !== undefined ? { default: def } : {}), ...(description ? { description } : {}) });

export interface Cidr {
  family: 4 | 6;
  /** normalised text: "10.0.0.1", "10.0.0.0/8", "2001:db8::/32" (IPv6 in RFC 5952 form) */
  text: string;
  /** the network and its prefix length, for containment checks */
  net: ipaddr.IPv4 | ipaddr.IPv6;
  prefix: number;
}

/** An address or CIDR, or null when `s` is neither. A /32 (/128) is written as the bare address. */
export function parseCidr(s: string): Cidr | null {
  const [addr, prefixText, ...rest] = s.split('/');
  if (addr === undefined || rest.length > 0) return null;
  // strict forms only: four decimal octets, or IPv6 (ipaddr.js alone would take "10.1" or "0x0a.0.0.1")
  if (!ipaddr.IPv4.isValidFourPartDecimal(addr) && !(addr.includes(':') && ipaddr.IPv6.isValid(addr))) return null;
  const ip = ipaddr.parse(addr);
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
    prefix = Number(prefixText);
  }
  // host bits set in a CIDR: "10.0.0.1/8" is a typo, not a network
  const net = ip.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${prefix}`);
  if (net.toString() !== ip.toString()) return null;
  const text = prefix === max ? ip.toString() : `${ip.toString()}/${prefix}`;
  return { family: ip.kind() === 'ipv4' ? 4 : 6, text, net, prefix };
}

/** Is `inner` inside `outer` (same family, at least as long a prefix)? */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && inner.net.match(outer.net as never, outer.prefix);
}

/** The first address of a network: the lab bridge's gateway, the controller as lab hosts see it. */
export function gatewayOf(cidr: string): string {
  const [addr = '', bits = '24'] = cidr.split('/');
  const bytes = ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${bits}`).toByteArray();
  const n = (bytes[0]! * 2 ** 24 + bytes[1]! * 2 ** 16 + bytes[2]! * 2 ** 8 + bytes[3]! + 1) % 2 ** 32;
  return ipaddr.fromByteArray([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]).toString();
}

const isWholeInternet = (c: Cidr): boolean => c.text.endsWith('/0');

export function hostByName(hosts: readonly HostView[], name: string): HostView | undefined {
  return hosts.find((h) => h.name === name);
}

/**
 * Resolve one source: an address/CIDR is kept, an inventory host name becomes its address.
 * `what` names the var or opening in error messages.
 */
export function resolveSource(entry: string, hosts: readonly HostView[], what: string): Cidr {
  const direct = parseCidr(entry);
  if (direct) {
    if (isWholeInternet(direct)) {
      throw new Error(`${what}: "${entry}" is the whole internet; write 'any' in an opening if that is really meant`);
    }
    return direct;
  }
  const host = hostByName(hosts, entry);
  if (host) {
    const addr = parseCidr(host.address);
    if (!addr) throw new Error(`${what}: inventory host ${entry} has address "${host.address}", which is not an IP address`);
    return addr;
  }
  throw new Error(`${what}: "${entry}" is neither an IP address or CIDR nor a host of the inventory`);
}

/** Resolve a list; exact duplicates and entries inside another entry of the list are dropped. */
export function resolveSources(list: readonly string[], hosts: readonly HostView[], what: string): Cidr[] {
  const all = list.map((e) => resolveSource(e, hosts, what));
  const unique = all.filter((c, i) => all.findIndex((d) => d.text === c.text) === i);
  // nftables refuses overlapping intervals in one set: keep only the widest networks (IPv4 and IPv6).
  return unique.filter((c) => !unique.some((d) => d !== c && d.prefix < c.prefix && cidrContains(d, c)));
}

/** An address as the host part of a URL or host:port: IPv6 in brackets. */
export const urlHost = (addr: string): string => (addr.includes(':') ? `[${addr}]` : addr);

/** Where a check on the host itself reaches a listener bound to `addr`: a wildcard bind is asked on loopback. */
export const localUrlHost = (addr: string): string => (addr === '0.0.0.0' ? '127.0.0.1' : addr === '::' ? '[::1]' : urlHost(addr));

/** host:port with an optional [IPv6] host; the host part may be an inventory host name. */
export function splitHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`${what}: expected host:port (e.g. 10.0.0.5:514), got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}
