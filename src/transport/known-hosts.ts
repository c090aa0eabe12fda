// OpenSSH known_hosts, parsed and matched here rather than by ssh2 (which only hands us the raw
// host key blob): plain and `[host]:port` names, comma lists, `*`/`?` wildcards, `!` negation,
// hashed `|1|salt|hmac` names, `@revoked` (refused) and `@cert-authority` (not supported: ignored).
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface KnownHostEntry {
  /** 1-based line number in the file, for messages */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** the host field as written (comma list or hashed name) */
  hosts: string;
  keyType: string;
  /** raw key blob (the base64 field decoded) — what ssh2's hostVerifier receives */
  key: Buffer;
}

export interface KnownHosts {
  file: string;
  entries: KnownHostEntry[];
  /** false when the file does not exist: then every host is unknown */
  exists: boolean;
}

export async function loadKnownHosts(file: string): Promise<KnownHosts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, entries: [], exists: false };
    throw new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { file, entries: parseKnownHosts(text), exists: true };
}

/** Malformed lines are skipped, as OpenSSH does; they can only make a host "unknown", never trusted. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH ignores the line
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    if (blobKeyType(key) !== keyType) return; // the blob names its own type; a mismatch is corrupt
    entries.push({ line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks a host up by: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** Does the entry's host field match `name` (as built by knownHostName)? */
export function hostFieldMatches(hosts: string, name: string): boolean {
  const lname = name.toLowerCase();
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(lname).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, lname)) continue;
    if (negated) return false; // a matching negation vetoes the whole line
    matched = true;
  }
  return matched;
}

function wildcardMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

export type HostKeyVerdict =
  | { kind: 'match'; entry: KnownHostEntry }
  | { kind: 'revoked'; entry: KnownHostEntry }
  /** no plain entry for the name; `certAuthority` tells that only @cert-authority lines matched */
  | { kind: 'unknown'; certAuthority: boolean }
  /** entries exist for the name, none with the presented key */
  | { kind: 'changed'; expected: KnownHostEntry[] };

export function verifyHostKey(entries: KnownHostEntry[], name: string, presented: Buffer): HostKeyVerdict {
  // A revoked key is refused whatever host pattern its line carries: stricter than OpenSSH, never weaker.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(presented));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  if (forHost.length === 0) {
    const ca = entries.some((e) => e.marker === 'cert-authority' && hostFieldMatches(e.hosts, name));
    return { kind: 'unknown', certAuthority: ca };
  }
  // The blob starts with its type name, so equal blobs also means equal key types.
  const match = forHost.find((e) => e.key.equals(presented));
  if (match) return { kind: 'match', entry: match };
  const type = blobKeyType(presented);
  // Entries of the presented type first: those are the ones the key "changed" from.
  const expected = [...forHost].sort((a, b) => Number(b.keyType === type) - Number(a.keyType === type));
  return { kind: 'changed', expected };
}

/** Host key algorithms to prefer so the server presents a key type we have on file (as OpenSSH does). */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], name: string): string[] {
  const algos: string[] = [];
  for (const e of entries) {
    if (e.marker !== undefined || !hostFieldMatches(e.hosts, name)) continue;
    for (const a of ALGORITHMS_FOR_KEY_TYPE[e.keyType] ?? []) if (!algos.includes(a)) algos.push(a);
  }
  return algos;
}

// Signature algorithms ssh2 negotiates for each key type on file (RSA keys sign with SHA-2 first).
const ALGORITHMS_FOR_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/** The key type named inside an SSH wire-format key blob (first string field), or '' if malformed. */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return '';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of the SHA-256 of the blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** "ssh-ed25519 SHA256:…" */
export function describeKey(blob: Buffer): string {
  return `${blobKeyType(blob) || 'unknown-type'} ${fingerprint(blob)}`;
}
