// What every resource constructor shares: the ResourceCommon fields, input validation that throws
// ResourceError with the resource id in the message, and a few sh building blocks.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { sh } from '../shell/quote.js';
import { carriesSecret, isSecret } from '../secrets/value.js';
import { ResourceError, type Action, type Change, type Resource, type ResourceCommon } from './types.js';

/** The fields every resource has, as the Resource contract defines them (one definition, in types.ts). */
export type CommonFields = Pick<Resource, 'type' | 'id' | 'notify' | 'guard' | 'sensitive' | 'skipIf' | 'desired'>;

export type Presence = 'present' | 'absent';

/** Where provision keeps its own small records on a host (apt update stamp, loaded nftables hash). */
export const STATE_DIR = '/var/lib/provision';

/**
 * Build and validate the common fields. `guard` says whether this type can honour the lockout guard
 * (it needs files to back up); asking for it where it cannot is refused rather than silently ignored.
 */
export function common(
  type: string,
  key: string,
  opts: ResourceCommon,
  guard: { supported: boolean; byDefault?: boolean } = { supported: false },
): CommonFields {
  const id = `${type}:${key}`;
  const notify = opts.notify ?? [];
  if (!Array.isArray(notify) || notify.some((n) => typeof n !== 'string' || n.trim() === '')) {
    throw new ResourceError(`${id}: notify must be a list of handler names`);
  }
  if (opts.skipIf !== undefined && typeof opts.skipIf !== 'function') {
    throw new ResourceError(`${id}: skipIf must be a function (facts) => reason | null`);
  }
  const wantGuard = opts.guard ?? guard.byDefault ?? false;
  if (wantGuard && !guard.supported) {
    throw new ResourceError(`${id}: guard is not supported by ${type} resources (nothing to restore)`);
  }
  // Sensitive by construction: desired state that carries a secret is never shown, whatever the role said.
  const secret = carriesSecret(opts);
  if (secret && wantGuard) {
    // The guard backs files up on the host: a copy of a secret outside its own file.
    throw new ResourceError(`${id}: a resource holding a secret cannot be guarded (its backup would be a second copy on the host)`);
  }
  return {
    type,
    id,
    notify: [...notify],
    guard: wantGuard,
    sensitive: opts.sensitive === true || secret,
    ...(opts.skipIf ? { skipIf: opts.skipIf } : {}),
    desired: desiredHash(type, opts),
  };
}

/** sha256 of the constructor options (keys sorted, functions left out): equal options, equal hash. */
function desiredHash(type: string, opts: object): string {
  const stable = (v: unknown): unknown =>
    Buffer.isBuffer(v) ? `base64:${v.toString('base64')}` :
    isSecret(v) ? v.reveal() :
    Array.isArray(v) ? v.map(stable) :
    v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable((v as Record<string, unknown>)[k])])) :
    v;
  return createHash('sha256').update(type).update('\0').update(JSON.stringify(stable(opts)) ?? '').digest('hex');
}

/** A label for error messages before the id is known. */
const where = (type: string, key: unknown): string => `${type}:${typeof key === 'string' ? key : '?'}`;

export function requireString(type: string, key: unknown, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ResourceError(`${where(type, key)}: ${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (value.includes('\0')) throw new ResourceError(`${where(type, key)}: ${field} contains a NUL byte`);
  return value;
}

/** One line of text: probes report values line by line, so a newline would forge a record. */
export function requireOneLine(type: string, key: unknown, field: string, value: unknown): string {
  const s = requireString(type, key, field, value);
  if (/[\n\r]/.test(s)) throw new ResourceError(`${where(type, key)}: ${field} must be a single line`);
  return s;
}

/** Absolute, normalised (no `..`, `//`, trailing slash), not `/` itself, one line. */
export function requireAbsPath(type: string, key: unknown, field: string, value: unknown): string {
  const p = requireOneLine(type, key, field, value);
  if (!p.startsWith('/')) throw new ResourceError(`${where(type, key)}: ${field} must be an absolute path, got ${JSON.stringify(p)}`);
  if (p === '/' || path.posix.normalize(p) !== p || p.endsWith('/')) {
    throw new ResourceError(`${where(type, key)}: ${field} must be a normalised path other than /, got ${JSON.stringify(p)}`);
  }
  return p;
}

/** User and group names (or numeric ids): what useradd/groupadd accept, never an option. */
export function requireAccount(type: string, key: unknown, field: string, value: unknown): string {
  const s = requireString(type, key, field, value);
  if (!/^(?:[0-9]+|[A-Za-z_][A-Za-z0-9_.-]{0,31})$/.test(s)) {
    throw new ResourceError(`${where(type, key)}: ${field} ${JSON.stringify(s)} is not a valid user or group name`);
  }
  return s;
}

/**
 * Types that cannot keep a secret private refuse it: a line edit keeps its file's mode and greps for
 * the line (argv), a unit file and a sysctl are world-readable by design.
 */
export function refuseSecret(id: string, opts: object, advice: string): void {
  if (carriesSecret(opts)) throw new ResourceError(`${id}: carries a secret, which this resource type cannot keep private: ${advice}`);
}

/** A file holding something sensitive is never readable by every user of the host. */
export function requirePrivateMode(id: string, sensitive: boolean, mode: string): void {
  if (sensitive && (parseInt(mode, 8) & 0o004) !== 0) {
    throw new ResourceError(`${id}: holds a secret but mode ${mode} lets every user read it (use 0600 or 0640)`);
  }
}

/** An octal mode as 4 digits: '644' and '0644' both give '0644'. */
export function requireMode(type: string, key: unknown, value: unknown): string {
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    throw new ResourceError(`${where(type, key)}: mode must be an octal string like '0644', got ${JSON.stringify(value)}`);
  }
  return normalizeMode(value);
}

export const normalizeMode = (mode: string): string => mode.replace(/^0+(?=[0-7]{4})/, '').padStart(4, '0');

export function requirePresence(type: string, key: unknown, value: unknown): Presence {
  const v = value ?? 'present';
  if (v !== 'present' && v !== 'absent') {
    throw new ResourceError(`${where(type, key)}: state must be 'present' or 'absent', got ${JSON.stringify(value)}`);
  }
  return v;
}

export function requireBoolean(type: string, key: unknown, field: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ResourceError(`${where(type, key)}: ${field} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** sh that prints a message to stderr and fails the (sub)shell the apply script runs in. */
export const fail = (message: string): string => `{ printf '%s\\n' ${sh(`provision: ${message}`)} >&2; exit 1; }`;

/**
 * Probes and applies run from a script fed to `sh -s`: a command reading stdin would swallow the
 * rest of that script, so every snippet gets /dev/null as stdin. A probe is a brace group (it must
 * not exit anyway); an apply is a subshell of its own, so its variables and `exit` stay local.
 */
const body = (script: string): string => (script.trim() === '' ? ':' : script.replace(/\n*$/, ''));
export const asProbe = (script: string): string => `{\n${body(script)}\n} </dev/null\n`;
export const asApply = (script: string): string => `(\n${body(script)}\n) </dev/null\n`;

/**
 * sh running the commands in turn and leaving the (sub)shell at the first that fails. It does not
 * lean on `set -e`: dash ignores -e inside a subshell run as a condition (`( … ) || handle`), so an
 * apply must stop on its own wherever the engine runs it. Multi-line commands (if, heredocs) are
 * grouped; their inner steps must be a seq() too.
 */
export const seq = (...commands: Array<string | false | undefined>): string =>
  commands
    .filter((c): c is string => typeof c === 'string' && c.trim() !== '')
    .map((c) => (c.includes('\n') ? `{\n${c.replace(/\n*$/, '')}\n} || exit $?` : `${c} || exit $?`))
    .join('\n');

/** `chmod` with 5 digits: GNU chmod keeps a directory's setgid bit unless the mode has 5 digits. */
export const chmodArg = (mode: string): string => `0${mode}`;

/** What differs, before it becomes a Change: the resource adds its id and type. */
export interface Delta {
  action: Action;
  summary: string;
  diff?: string;
}

export function toChange(c: { id: string; type: string; sensitive?: boolean }, d: Delta | null): Change | null {
  if (d === null) return null;
  return { id: c.id, type: c.type, action: d.action, summary: d.summary, ...(d.diff !== undefined ? { diff: d.diff } : {}), ...(c.sensitive ? { sensitive: true } : {}) };
}

/**
 * A resource's four functions from its raw parts: the probe and apply scripts framed (own
 * subshell, stdin closed), the delta turned into a Change carrying the resource's id and type.
 */
export function resourceParts<S>(
  c: { id: string; type: string; sensitive?: boolean },
  p: { probe: () => string; parse: (stdout: string, status: number) => S; delta: (s: S) => Delta | null; apply: (s: S) => string },
): Pick<Resource<S>, 'probe' | 'parse' | 'diff' | 'apply'> {
  return {
    probe: () => asProbe(p.probe()),
    parse: p.parse,
    diff: (s) => toChange(c, p.delta(s)),
    apply: (s) => asApply(p.apply(s)),
  };
}
