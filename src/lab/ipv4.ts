// IPv4 arithmetic for lab networks: addresses as unsigned 32-bit numbers, CIDRs as (base, prefix).

export interface Cidr {
  base: number;
  prefix: number;
}

/** Dotted quad -> number, or undefined when it is not a plain IPv4 address (no leading zeros, 0..255). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.213.7.0/24" -> Cidr; undefined when malformed. Host bits must be zero (caller decides how to report). */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!m) return undefined;
  const base = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  return { base, prefix };
}

export function inCidr(addr: number, c: Cidr): boolean {
  const mask = maskOf(c.prefix);
  return ((addr & mask) >>> 0) === ((c.base & mask) >>> 0);
}

export function broadcastOf(c: Cidr): number {
  return ((c.base & maskOf(c.prefix)) | ~maskOf(c.prefix)) >>> 0;
}

/** The lab convention: the gateway (this machine, on the bridge) is the network's first address. */
export function gatewayOf(c: Cidr): number {
  return ((c.base & maskOf(c.prefix)) + 1) >>> 0;
}

/** RFC 1918 private ranges: lab traffic must never use public addresses. */
export const PRIVATE_RANGES: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((t) => parseCidr(t)!);

export function isPrivate(addr: number): boolean {
  return PRIVATE_RANGES.some((r) => inCidr(addr, r));
}

/** True when the whole network lies inside one RFC 1918 range. */
export function isPrivateNetwork(c: Cidr): boolean {
  return PRIVATE_RANGES.some((r) => c.prefix >= r.prefix && inCidr(c.base, r));
}
