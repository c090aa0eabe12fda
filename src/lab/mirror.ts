// The Debian mirror comes from this machine's own apt sources (never hard-coded): the base is
// bootstrapped from it, the hosts' apt uses it, and it is the only place lab hosts may reach.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

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

/** The bookworm (Debian 12) binary sources with http(s) URIs: what lab hosts may use. */
export function bookwormSources(sources: AptSource[]): AptSource[] {
  return sources
    .filter((s) => s.types.includes('deb') && s.suites.some((x) => x.startsWith('bookworm')))
    .map((s) => ({ ...s, types: ['deb'], uris: s.uris.filter(isHttp), suites: s.suites.filter((x) => x.startsWith('bookworm')) }))
    .filter((s) => s.uris.length > 0);
}

/** The mirror to debootstrap from: the first URI that serves the plain `bookworm` suite. */
export function debootstrapMirror(sources: AptSource[]): string {
  const s = bookwormSources(sources).find((x) => x.suites.includes('bookworm'));
  const uri = s?.uris[0];
  if (!uri) {
    throw new Error('no Debian 12 (bookworm) mirror in this machine\'s apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): the lab base is bootstrapped from it');
  }
  return uri.replace(/\/+$/, '');
}

/** Every mirror endpoint lab hosts may reach: host name and TCP port (the URI's port, else 80 and 443). */
export function mirrorEndpoints(sources: AptSource[]): { host: string; ports: number[] }[] {
  const byHost = new Map<string, Set<number>>();
  for (const s of bookwormSources(sources)) {
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
export function renderHostSources(sources: AptSource[]): string {
  return bookwormSources(sources)
    .map((s) => [`Types: deb`, `URIs: ${s.uris.join(' ')}`, `Suites: ${s.suites.join(' ')}`, `Components: ${s.components.join(' ') || 'main'}`].join('\n'))
    .join('\n\n') + '\n';
}
