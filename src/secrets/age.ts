// Encryption with Debian's `age` binary, run as a subprocess: plaintext and ciphertext travel over
// its stdin/stdout pipes only (never a temp file, never argv), and age itself runs any
// `age-plugin-*` binary on PATH for plugin identities and recipients (hardware keys).
import { spawnSync } from 'node:child_process';

export class AgeError extends Error {}

function runAge(args: string[], input: Buffer): Buffer {
  const r = spawnSync('age', args, { input, maxBuffer: 64 * 1024 * 1024, env: process.env });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new AgeError(code === 'ENOENT' ? 'the `age` program is not installed (Debian: apt-get install age)' : r.error.message);
  }
  if (r.status !== 0) {
    // age prints "age: error: …" then a line asking for bug reports: keep the first.
    const msg = r.stderr.toString('utf8').split('\n').find((l) => l.startsWith('age: error:')) ?? r.stderr.toString('utf8').trim();
    throw new AgeError(msg.replace(/^age: error: /, ''));
  }
  return r.stdout;
}

/** Decrypt with the identities in `identityFile` (native age keys or plugin identities). */
export const ageDecrypt = (ciphertext: Buffer, identityFile: string): Buffer => runAge(['--decrypt', '--identity', identityFile], ciphertext);

/** Encrypt to every recipient in `recipientsFile` (one per line, # comments), ASCII-armoured for git. */
export const ageEncrypt = (plaintext: Buffer, recipientsFile: string): Buffer => runAge(['--encrypt', '--armor', '--recipients-file', recipientsFile], plaintext);

/** Make a new native identity; returns the file's text (with its "# public key:" line). */
export function ageKeygen(): { identity: string; recipient: string } {
  const r = spawnSync('age-keygen', [], { maxBuffer: 1024 * 1024 });
  if (r.error || r.status !== 0) throw new AgeError(`age-keygen failed: ${r.error?.message ?? r.stderr.toString()}`);
  const identity = r.stdout.toString('utf8');
  const recipient = /# public key: (age1\S+)/.exec(identity)?.[1];
  if (!recipient) throw new AgeError('age-keygen printed no public key');
  return { identity, recipient };
}
