// The operating-system releases provision supports, in one place: the inventory's `spec.os`, the
// roles' `releases` and the lab's base per release all name a release as `<id>-<major>`.
import type { Facts } from './types.js';

/** Supported releases and their Debian code names (the lab bootstraps the code name's suite). */
export const RELEASES = { 'debian-12': 'bookworm', 'debian-13': 'trixie' } as const;
export type Release = keyof typeof RELEASES;
export const SUPPORTED_RELEASES = Object.keys(RELEASES) as Release[];
/** what a host is assumed to run when nothing says otherwise (the lab's default base) */
export const DEFAULT_RELEASE: Release = 'debian-12';

export const isRelease = (s: string): s is Release => Object.hasOwn(RELEASES, s);

/** The release a host runs, as "<ID>-<VERSION_ID>" from its /etc/os-release (e.g. "debian-13"). */
export const releaseOf = (os: Facts['os']): string => `${os.id}-${os.versionId || os.codename || 'unknown'}`;

/** "debian-13 (Debian GNU/Linux 13 (trixie))": what was found, for error messages. */
export const describeRelease = (os: Facts['os']): string => `${releaseOf(os)}${os.prettyName ? ` (${os.prettyName})` : ''}`;

/**
 * Plan-time checks of a host's release: the inventory's pin (`spec.os`) and what each role supports.
 * Returns the errors (empty: fine).
 */
export function checkRelease(
  os: Facts['os'],
  pinned: string | undefined,
  roles: { name: string; releases?: readonly string[] }[],
  /** the release the roles were compiled for when nothing pinned it (a lab host: the lab's default) */
  compiledFor?: string,
): string[] {
  const found = releaseOf(os);
  const errors: string[] = [];
  if (pinned && found !== pinned) errors.push(`the inventory pins spec.os ${pinned}, but the host runs ${describeRelease(os)}`);
  else if (!pinned && compiledFor && found !== compiledFor) {
    errors.push(`the roles were compiled for ${compiledFor} (a lab host without spec.os), but the host runs ${describeRelease(os)}: set spec.os`);
  }
  for (const role of roles) {
    const supported = role.releases ?? SUPPORTED_RELEASES;
    if (!supported.includes(found)) errors.push(`role ${role.name} supports ${supported.join(', ')}; the host runs ${describeRelease(os)}`);
  }
  return errors;
}
