// Secrets in the controller's memory. A secret var reaches a role as a SecretValue: an opaque
// wrapper that never turns into its plaintext by accident (JSON, inspect, string conversion).
// Every plaintext the process has decrypted is also kept in one registry, which does two jobs:
//  - sensitive by construction: a resource whose desired state contains a known plaintext is
//    sensitive (src/resources/common.ts), whatever its role said;
//  - last line of defence: `redact()` replaces every known plaintext (and its base64 and hex
//    forms) in any text the CLI prints or writes.
import { Type, type TSchema, type TString, type TUnsafe } from '@sinclair/typebox';
import { inspect } from 'node:util';

export const REDACTED = '(sensitive)';
/** Shorter values cannot be told apart from ordinary text, so they could not be redacted reliably. */
export const MIN_SECRET_LENGTH = 8;

export class SecretValue {
  readonly #plaintext: string;
  constructor(plaintext: string) {
    this.#plaintext = plaintext;
    registerSecret(plaintext);
  }
  /** The plaintext, for the one place it is meant to go: a file's content, a command's stdin. */
  reveal(): string {
    return this.#plaintext;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
  // `${secret}` in a role is a bug (the host would get the word "(sensitive)"): fail loudly at compile time.
  toString(): string {
    throw new Error('a secret was used as a string: pass secret.reveal() to the file content or command stdin that needs it');
  }
  [Symbol.toPrimitive](): string {
    return this.toString();
  }
}

export const isSecret = (v: unknown): v is SecretValue => v instanceof SecretValue;

/** The keyword that marks a var as a secret in a role's schema. */
export const SECRET_KEYWORD = 'x-secret';

/**
 * Mark a var as a secret: `db_password: Secret(Type.String({ minLength: 16 }))`. The value must come
 * from an encrypted secrets file, is validated against the inner schema, and the role receives a
 * SecretValue (its TypeScript type says so).
 */
export function Secret(inner: TString = Type.String()): TUnsafe<SecretValue> {
  return Type.Unsafe<SecretValue>({ ...inner, [SECRET_KEYWORD]: true });
}

export const isSecretSchema = (s: unknown): boolean => !!s && typeof s === 'object' && (s as Record<string, unknown>)[SECRET_KEYWORD] === true;

/** Paths (list of keys) of the secret vars a schema declares, through nested objects. */
export function secretPaths(schema: TSchema, prefix: string[] = []): string[][] {
  if (isSecretSchema(schema)) return [prefix];
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props) return [];
  return Object.entries(props).flatMap(([k, s]) => secretPaths(s, [...prefix, k]));
}

// ---- the registry and the redactor ----

const known = new Set<string>();
let patterns: { needle: string }[] | undefined;

export function registerSecret(plaintext: string): void {
  if (plaintext.length < MIN_SECRET_LENGTH || known.has(plaintext)) return;
  known.add(plaintext);
  patterns = undefined;
}

export const knownSecretCount = (): number => known.size;

/**
 * The forms a plaintext may take in output: as is, base64 (padded or not, url-safe) and hex. Inside
 * a longer base64 text (a whole file's content) the secret's encoding depends on where it starts
 * modulo 3 bytes: for each of the three offsets, the characters that depend on its bytes alone.
 */
export function encodedForms(plaintext: string): string[] {
  const b = Buffer.from(plaintext, 'utf8');
  const b64 = b.toString('base64');
  const forms = new Set([plaintext, b64, b64.replace(/=+$/, ''), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase()]);
  for (const offset of [1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), b]);
    const whole = shifted.subarray(0, shifted.length - (shifted.length % 3));
    // the first 2 (offset 1) or 3 (offset 2) characters also carry bits of the bytes before it
    const inner = whole.toString('base64').slice(offset === 1 ? 2 : 3);
    forms.add(inner);
    forms.add(inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  // and at offset 0, the complete groups only (the last one also carries the byte after it)
  forms.add(b.subarray(0, b.length - (b.length % 3)).toString('base64'));
  // JSON output escapes quotes, backslashes and control characters: catch the escaped form too.
  forms.add(JSON.stringify(plaintext).slice(1, -1));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Replace every known plaintext and its encoded forms; longest first so a longer secret wins. */
export function redact(text: string): string {
  if (known.size === 0 || text === '') return text;
  patterns ??= [...known].flatMap(encodedForms).sort((a, b) => b.length - a.length).map((needle) => ({ needle }));
  let out = text;
  for (const { needle } of patterns) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
  return out;
}

/** Does a value (strings, Buffers, arrays, objects, SecretValues) carry a known plaintext? */
export function carriesSecret(v: unknown, seen = new Set<unknown>()): boolean {
  if (known.size === 0) return false;
  if (v instanceof SecretValue) return true;
  if (typeof v === 'string') {
    for (const s of known) if (v.includes(s)) return true;
    return false;
  }
  if (Buffer.isBuffer(v)) return carriesSecret(v.toString('utf8'), seen);
  if (v && typeof v === 'object') {
    if (seen.has(v)) return false;
    seen.add(v);
    return Object.values(v).some((x) => carriesSecret(x, seen));
  }
  return false;
}

/** Plain data for a template: every SecretValue replaced by its plaintext (the output is then sensitive). */
export function revealAll(v: unknown): unknown {
  if (v instanceof SecretValue) return v.reveal();
  if (Array.isArray(v)) return v.map(revealAll);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealAll(x)]));
  }
  return v;
}
