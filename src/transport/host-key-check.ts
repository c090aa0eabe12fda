// Turns a known_hosts verdict into the error that stops the host, worded for the operator.
import path from 'node:path';
import { HostKeyChangedError, HostKeyRevokedError, HostKeyUnknownError, hostLabel, type TransportError } from './errors.js';
import { describeKey, knownHostName, verifyHostKey, type KnownHosts } from './known-hosts.js';

export interface HostKeyTarget {
  host: string;
  address: string;
  port: number;
}

/** null when the key is trusted; otherwise the error to fail the host with. */
export function checkHostKey(knownHosts: KnownHosts, target: HostKeyTarget, presented: Buffer): TransportError | null {
  const name = knownHostName(target.address, target.port);
  const verdict = verifyHostKey(knownHosts.entries, name, presented);
  const who = hostLabel(target.host, target.address, target.port);
  const file = displayPath(knownHosts.file);
  const got = describeKey(presented);
  switch (verdict.kind) {
    case 'match':
      return null;
    case 'revoked':
      return new HostKeyRevokedError(
        target.host,
        `host key of ${who} is REVOKED (${file} line ${verdict.entry.line}): it presented ${got}; refusing to connect`,
      );
    case 'unknown': {
      const why = !knownHosts.exists
        ? ' (the file does not exist)'
        : verdict.certAuthority
          ? ' (only a @cert-authority line matches, and host certificates are not supported)'
          : '';
      return new HostKeyUnknownError(
        target.host,
        `host key of ${who} is not in ${file}${why}; expected an entry for ${name} — got ${got}`,
      );
    }
    case 'changed': {
      const expected = verdict.expected.map((e) => `${describeKey(e.key)} (line ${e.line})`).join(', ');
      return new HostKeyChangedError(
        target.host,
        `HOST KEY CHANGED for ${who}: ${file} expects ${expected} for ${name}, but the host presented ${got}. ` +
          `Someone may be intercepting the connection, or the host was reinstalled; ` +
          `if the change is expected, replace its entry in ${file}.`,
      );
    }
  }
}

/** Relative to the working directory when inside it ("inventory/lab/known_hosts"), else absolute. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
