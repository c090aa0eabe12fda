// Addresses in firewall openings and vars: IPv4/IPv6 addresses and CIDRs, or inventory host names
// (resolved to the host's address, so an address is written down once: in hosts.yaml).
import { isIPv4, isIPv6 } from 'node:net';
import type { HostView } from '../../src/roles/types.js';

/**
 * A source token any role may put in an opening's `from`: the base role replaces it with its own
 * `base.monitoring` list when it renders the firewall. Roles with a metrics endpoint use it so the
 * monitoring addresses are written once (in base's vars), not once per role.
 */
export const MONITORING = '@monitoring';

/** What a vars schema accepts for a source: an address, a CIDR or an inventory host name. */
export const SOURCE_PATTERN = '^[A-Za-z0-9:][A-Za-z0-9.:/_-]*$';

export interface Cidr {
  family: 4 | 6;
  /** normalised text: "10.0.0.1", "10.0.0.0/8", "2001:db8::/32" */
  text: string;
  /** IPv4 only: network as a 32-bit number and prefix length, for containment checks */
  v4?: { net: number; prefix: number };
}

const v4num = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** An address or CIDR, or null when `s` is neither. A /32 (/128) is written as the bare address. */
export function parseCidr(s: string): Cidr | null {
  const [addr, prefixText, ...rest] = s.split('/');
  if (addr === undefined || rest.length > 0) return null;
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
    prefix = Number(prefixText);
  }
  const text = prefix === max ? addr.toLowerCase() : `${addr.toLowerCase()}/${prefix}`;
  if (family === 6) return { family: 6, text };
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (v4num(addr) & mask) >>> 0;
  if (net !== v4num(addr)) return null; // host bits set in a CIDR: "10.0.0.1/8" is a typo, not a network
  return { family: 4, text, v4: { net, prefix } };
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

/** Resolve a list; exact duplicates and IPv4 entries inside another entry of the list are dropped. */
export function resolveSources(list: readonly string[], hosts: readonly HostView[], what: string): Cidr[] {
  const all = list.map((e) => resolveSource(e, hosts, what));
  const unique = all.filter((c, i) => all.findIndex((d) => d.text === c.text) === i);
  // nftables refuses overlapping intervals in one set: keep only the widest IPv4 networks.
  return unique.filter((c) => !unique.some((d) => d !== c && d.v4 && c.v4 && d.v4.prefix < c.v4.prefix && contains(d.v4, c.v4)));
}

function contains(outer: { net: number; prefix: number }, inner: { net: number; prefix: number }): boolean {
  const mask = outer.prefix === 0 ? 0 : (0xffffffff << (32 - outer.prefix)) >>> 0;
  return ((inner.net & mask) >>> 0) === outer.net;
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
