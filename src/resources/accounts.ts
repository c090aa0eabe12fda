// What user and group share: the account databases (backed up by the lockout guard) and how
// `getent` lines are read.
import { ResourceError } from './types.js';
import { requireAccount } from './common.js';

/** The files useradd/usermod/groupadd change: what the lockout guard restores. */
export const ACCOUNT_FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow'];

/** Split a getent line (name:x:…) into its fields; none of them can contain ':'. */
export const getentFields = (line: string | undefined): string[] | undefined => line?.split(':');

/** "a,b" → ["a", "b"]; "" → [] */
export const commaList = (s: string | undefined): string[] => (s ? s.split(',').filter((x) => x !== '') : []);

/** A name for a new account: a valid name that is not all digits (tools would read it as an id). */
export function requireNewAccountName(type: string, value: unknown): string {
  const name = requireAccount(type, value, 'name', value);
  if (/^[0-9]+$/.test(name)) throw new ResourceError(`${type}:${name}: a numeric name would be read as an id`);
  return name;
}
