// The Debian mirror comes from this machine's own apt sources (never hard-coded): the base is
// bootstrapped from it, the hosts' apt uses it, and it is the only place lab hosts may reach.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_RELEASE, RELEASES, type Release } from '../facts/release.js';

export interface AptSource {
  types: string[]; // deb, deb-src
  uris: string[];
  suites: string[];
  components: string[];
}

/** Parses deb822 `.sources` text: paragraphs of `Field: value`, continuation lines start with space. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const para of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of para.split('\n')) {
      if (/^\s*#/.test(line) || line.trim() === '') continue;
      if (/^[ \t]/.test(line) && last) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    if (/^(no|false)$/i.test(fields.get('enabled') ?? '')) continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('uris')) continue;
    out.push({ types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') });
  }
  return out;
}

/** Parses one-line `sources.list` text: `deb [opts] URI suite [components...]`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').replace(/\[[^\]]*\]/, ' ').trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if ((type === 'deb' || type === 'deb-src') && uri && suite) out.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return out;
}

/** Reads /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources} (or another root, for tests). */
export async function readAptSources(etcApt = '/etc/apt'): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const main = await readFile(path.join(etcApt, 'sources.list'), 'utf8').catch(() => '');
  sources.push(...parseOneLineSources(main));
  const dir = path.join(etcApt, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
    if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
    else if (name.endsWith('.list')) sources.push(...parseOneLineSources(text));
  }
  return sources;
}

const isHttp = (uri: string) => /^https?:\/\//.test(uri);

const CODENAMES: string[] = Object.values(RELEASES);
/** "bookworm-security" → ["bookworm", "-security"] for any supported release's code name */
const splitSuite = (suite: string): [string, string] | undefined => {
  const m = /^([a-z]+)(-.*)?$/.exec(suite);
  return m && CODENAMES.includes(m[1]!) ? [m[1]!, m[2] ?? ''] : undefined;
};

/**
 * The Debian binary sources with http(s) URIs, for one release: what its lab hosts may use. This
 * machine's sources name its own release's suites (e.g. bookworm, bookworm-security); the same
 * mirrors serve every release, so the suites are renamed to the release's (trixie, trixie-security).
 */
export function releaseSources(sources: AptSource[], release: Release = DEFAULT_RELEASE): AptSource[] {
  const codename = RELEASES[release];
  return sources
    .filter((s) => s.types.includes('deb') && s.suites.some((x) => splitSuite(x)))
    .map((s) => ({
      ...s,
      types: ['deb'],
      uris: s.uris.filter(isHttp),
      suites: [...new Set(s.suites.flatMap((x) => splitSuite(x)?.[1] ?? []).map((suffix) => `${codename}${suffix}`))],
    }))
    .filter((s) => s.uris.length > 0)
    // the same suite from two lines of this machine (e.g. bookworm and trixie both listed) once
    .filter((s, i, all) => all.findIndex((o) => o.uris.join() === s.uris.join() && o.suites.join() === s.suites.join()) === i);
}

/** The mirror to debootstrap a release from: the first URI that serves its plain suite (not -security). */
export function debootstrapMirror(sources: AptSource[], release: Release = DEFAULT_RELEASE): string {
  const codename = RELEASES[release];
  const s = releaseSources(sources, release).find((x) => x.suites.includes(codename));
  const uri = s?.uris[0];
  if (!uri) {
    throw new Error(`no Debian mirror (a ${CODENAMES.join(' or ')} suite) in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): the lab base for ${release} is bootstrapped from it`);
  }
  return uri.replace(/\/+$/, '');
}

/** Every mirror endpoint lab hosts may reach: host name and TCP port (the URI's port, else 80 and 443). */
export function mirrorEndpoints(sources: AptSource[]): { host: string; ports: number[] }[] {
  const byHost = new Map<string, Set<number>>();
  for (const s of releaseSources(sources)) {
    for (const uri of s.uris) {
      const u = new URL(uri);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      const ports = byHost.get(host) ?? new Set<number>();
      if (u.port) ports.add(Number(u.port));
      else [80, 443].forEach((p) => ports.add(p)); // http mirrors often redirect to https and back
      byHost.set(host, ports);
    }
  }
  return [...byHost].map(([host, ports]) => ({ host, ports: [...ports].sort((a, b) => a - b) }));
}

/** deb822 text for the hosts' own /etc/apt/sources.list.d/debian.sources (keys: the base's keyring). */
export function renderHostSources(sources: AptSource[], release: Release = DEFAULT_RELEASE): string {
  return releaseSources(sources, release)
    .map((s) => [`Types: deb`, `URIs: ${s.uris.join(' ')}`, `Suites: ${s.suites.join(' ')}`, `Components: ${s.components.join(' ') || 'main'}`].join('\n'))
    .join('\n\n') + '\n';
}
