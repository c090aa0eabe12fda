// The inventory's known_hosts holds this fleet's host keys, written at boot time. Only the lines for
// the addresses we write are replaced: other hosts' lines (and comments) stay as they were.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface KnownHostLine {
  address: string;
  /** "ssh-ed25519 AAAA..." */
  key: string;
}

/** Does a known_hosts host field ("a,b", "[a]:22") name this address on the SSH port? */
function namesAddress(field: string, address: string): boolean {
  return field.split(',').some((n) => n === address || n === `[${address}]:22`);
}

/** Pure: the new file text. Lines naming any of `entries`' addresses are dropped, then ours appended. */
export function updateKnownHostsText(text: string, entries: KnownHostLine[]): string {
  const addresses = entries.map((e) => e.address);
  const kept = text
    .split('\n')
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      const hostField = fields[0]?.startsWith('@') ? fields[1] : fields[0];
      if (!hostField || hostField.startsWith('#')) return true;
      return !addresses.some((a) => namesAddress(hostField, a));
    });
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const ours = entries.map((e) => `${e.address} ${e.key}`);
  return [...kept, ...ours].join('\n') + '\n';
}

/** Atomic rewrite (temp file + rename): ssh never reads a half-written known_hosts. */
/** Returns whether the file changed. */
export async function updateKnownHostsFile(file: string, entries: KnownHostLine[]): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const next = updateKnownHostsText(text, entries);
  if (next === text) return false;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, next, { mode: 0o644 });
  await rename(tmp, file);
  return true;
}
