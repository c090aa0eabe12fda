// Host patterns, as in Ansible: terms separated by ':' or ','; a term is a group or host name,
// optionally with '*' globs; '!term' excludes, '&term' intersects. Evaluated left to right.
import type { Inventory } from './types.js';

export class PatternError extends Error {}

export function matchHosts(inv: Inventory, pattern: string): string[] {
  const terms = pattern.split(/[:,]/).map((t) => t.trim()).filter(Boolean);
  if (!terms.length) throw new PatternError(`empty host pattern "${pattern}"`);
  let selected = new Set<string>();
  let first = true;
  for (const term of terms) {
    const op = term[0] === '!' || term[0] === '&' ? term[0] : '';
    const name = op ? term.slice(1) : term;
    const hosts = resolveTerm(inv, name);
    if (!hosts) throw new PatternError(`"${name}" in host pattern "${pattern}" names no group or host of inventory ${inv.name}`);
    if (op === '!') {
      if (first) selected = new Set(inv.hosts.keys());
      for (const h of hosts) selected.delete(h);
    } else if (op === '&') selected = new Set([...selected].filter((h) => hosts.has(h)));
    else for (const h of hosts) selected.add(h);
    first = false;
  }
  // Inventory order keeps runs and reports stable.
  return [...inv.hosts.keys()].filter((h) => selected.has(h));
}

function resolveTerm(inv: Inventory, name: string): Set<string> | undefined {
  if (name.includes('*')) {
    const re = new RegExp('^' + name.split('*').map(escapeRe).join('.*') + '$');
    const out = new Set<string>();
    for (const h of inv.hosts.values()) if (re.test(h.name) || h.groups.some((g) => re.test(g))) out.add(h.name);
    return out;
  }
  if (inv.groups.has(name)) return new Set([...inv.hosts.values()].filter((h) => h.groups.includes(name)).map((h) => h.name));
  if (inv.hosts.has(name)) return new Set([name]);
  return undefined;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
