// The host firewall: every role's openings become nftables rules in a default-deny input chain.
// Seed 000 "Firewall Configuration" (allowlists only; test allowlist enforcement), seed 003
// "Blocking Unnecessary Ports". Pure functions: the role renders, the tests read the result.
import type { HostView, Opening } from '../../src/roles/types.js';
import { MONITORING, resolveSources, type Cidr } from '../../src/roles/net.js';

/** nftables comments: at most 128 bytes, inside double quotes — keep a safe subset of characters. */
export function nftComment(text: string): string {
  return text.replace(/[^A-Za-z0-9 ._:,/()@+-]/g, '_').slice(0, 120);
}

function checkOpening(o: Opening, i: number): void {
  const what = `opening #${i + 1} (${o.comment})`;
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`${what}: port must be 1-65535, got ${o.port}`);
  if (o.proto !== 'tcp' && o.proto !== 'udp') throw new Error(`${what}: proto must be tcp or udp, got ${String(o.proto)}`);
  if (o.from !== 'any' && !Array.isArray(o.from)) throw new Error(`${what}: from must be a list of sources or 'any'`);
}

const set = (list: Cidr[]): string => `{ ${list.map((c) => c.text).join(', ')} }`;

/**
 * One or two rule lines per opening (IPv4 and IPv6 sources go to separate matches); an opening
 * without sources becomes a comment line, so the plan shows that the port stays closed.
 * `monitoring` replaces the MONITORING token.
 */
export function renderRules(openings: readonly Opening[], hosts: readonly HostView[], monitoring: readonly string[]): string[] {
  const lines: string[] = [];
  openings.forEach((o, i) => {
    checkOpening(o, i);
    const comment = nftComment(o.comment);
    const match = `${o.proto} dport ${o.port}`;
    if (o.from === 'any') {
      lines.push(`${match} accept comment "${comment}"`);
      return;
    }
    const entries = o.from.flatMap((f) => (f === MONITORING ? monitoring : [f]));
    const sources = resolveSources(entries, hosts, `firewall opening ${o.proto}/${o.port} (${o.comment})`);
    const v4 = sources.filter((c) => c.family === 4);
    const v6 = sources.filter((c) => c.family === 6);
    if (v4.length) lines.push(`ip saddr ${set(v4)} ${match} accept comment "${comment}"`);
    if (v6.length) lines.push(`ip6 saddr ${set(v6)} ${match} accept comment "${comment}"`);
    if (!v4.length && !v6.length) lines.push(`# ${o.proto}/${o.port} stays closed: no sources (${comment})`);
  });
  return lines;
}
