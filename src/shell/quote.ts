// Every value that reaches a remote shell goes through `sh()`: POSIX single-quoting, where the only
// character needing care is the single quote itself. Nothing is ever interpolated raw.
export function sh(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a NUL byte cannot be sent to a shell');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each word and join with spaces: `shArgs(['apt-get', 'install', pkg])`. */
export function shArgs(words: ReadonlyArray<string | number>): string {
  return words.map(sh).join(' ');
}

/**
 * Binary-safe way to put arbitrary bytes on the host: base64 text is inert in any shell context.
 * Returns a shell expression that writes `content` to stdout.
 */
export function shBytes(content: string | Buffer): string {
  const b64 = Buffer.from(content).toString('base64');
  // Split into lines so no single line is huge; base64 -d ignores newlines.
  const wrapped = b64.replace(/.{1,76}/g, '$&\n');
  return `base64 -d <<'__PROVISION_B64__'\n${wrapped}__PROVISION_B64__\n`;
}
