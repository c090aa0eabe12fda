// `provision secrets show|edit|encrypt`: the operator's side of inventory/<env>/secrets/. Plaintext
// stays in this process: it comes in on stdin, goes to `age` over a pipe and out of age the same
// way; only ciphertext is written, and only `show --reveal` prints values.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYamlText, stringify } from 'yaml';
import { displayPath, InputError } from '../../input/errors.js';
import { isPlainObject } from '../../inventory/merge.js';
import { loadInventory } from '../../inventory/load.js';
import { ageEncrypt, AgeError } from '../../secrets/age.js';
import { decryptScope, identityFile, readRecipients, recipientsFile, scopeFile, secretScopes } from '../../secrets/store.js';
import { REDACTED, registerSecret } from '../../secrets/value.js';
import type { Args } from '../args.js';
import type { Io } from '../io.js';

const cmdLine = (expected: string, found: string): InputError => new InputError([{ file: '(command line)', at: 'secrets', expected, found }]);

export async function secretsCommand(a: Args, io: Io): Promise<number> {
  const [sub, invDir, scope, varPath] = a.positionals;
  if (sub !== 'show' && sub !== 'edit' && sub !== 'encrypt') throw cmdLine('one of show, edit, encrypt', sub ? `"${sub}"` : 'nothing');
  if (!invDir) throw cmdLine('an inventory directory', 'nothing');
  // Loading the inventory decrypts every existing file: a wrong identity stops here, before any change.
  const inv = loadInventory(invDir, { identity: a.identity });
  const identity = identityFile(a.identity, !!inv.lab);
  const scopes = new Set([...inv.groups.keys(), ...inv.hosts.keys()]);
  const needScope = (s: string | undefined): string => {
    if (!s || !scopes.has(s)) throw cmdLine(`a group or host of ${inv.name} (${[...scopes].sort().join(', ')})`, s ? `"${s}"` : 'nothing');
    return s;
  };
  const read = (s: string): Record<string, unknown> => (fs.existsSync(scopeFile(inv.dir, s)) ? decryptScope(scopeFile(inv.dir, s), identity, !!inv.lab).data : {});

  if (sub === 'show') {
    const shown = scope ? [needScope(scope)] : secretScopes(inv.dir);
    const all = Object.fromEntries(shown.map((s) => [s, read(s)]));
    if (a.reveal) {
      // Asked for explicitly: the only output of provision that carries plaintext, so it bypasses Io's redactor.
      process.stdout.write(a.json ? JSON.stringify(all, null, 2) + '\n' : stringify(all));
      return 0;
    }
    const masked = Object.fromEntries(Object.entries(all).map(([s, d]) => [s, mask(d)]));
    if (a.json) io.out(JSON.stringify(masked, null, 2));
    else for (const [s, d] of Object.entries(masked)) for (const p of leaves(d)) io.out(`${s}  ${p} = ${REDACTED}`);
    return 0;
  }

  readRecipients(inv.dir); // a clear error when there is no one to encrypt to
  if (sub === 'edit') {
    const s = needScope(scope);
    const keys = varPath?.split('.').filter(Boolean) ?? [];
    if (keys.length < 2) throw cmdLine('ROLE.VAR, e.g. e2e-secret-app.db_password', varPath ? `"${varPath}"` : 'nothing');
    const data = read(s);
    if (a.delete) {
      unset(data, keys);
    } else {
      const value = await readStdin(`the new value of ${keys.join('.')}`, true);
      registerSecret(value);
      set(data, keys, value);
    }
    write(inv.dir, s, data);
    io.out(`${displayPath(scopeFile(inv.dir, s))}: ${a.delete ? 'removed' : 'set'} ${keys.join('.')} (encrypted to ${readRecipients(inv.dir).length} recipient(s)); check it with: provision check ${invDir}`);
    return 0;
  }
  // encrypt
  if (scope) {
    const s = needScope(scope);
    const text = await readStdin('a YAML map of role → vars');
    let data: unknown;
    try {
      data = parseYamlText(text);
    } catch (e) {
      throw new InputError([{ file: '(stdin)', at: '', expected: 'YAML: a map of role → secret vars', found: (e as Error).message.split('\n')[0]! }]);
    }
    if (!isPlainObject(data)) throw new InputError([{ file: '(stdin)', at: '', expected: 'a map of role → secret vars', found: 'something else' }]);
    write(inv.dir, s, data);
    io.out(`${displayPath(scopeFile(inv.dir, s))}: encrypted to ${readRecipients(inv.dir).length} recipient(s)`);
    return 0;
  }
  for (const s of secretScopes(inv.dir)) write(inv.dir, s, read(s));
  io.out(`re-encrypted ${secretScopes(inv.dir).length} file(s) to the ${readRecipients(inv.dir).length} recipient(s) of ${displayPath(recipientsFile(inv.dir))}`);
  return 0;
}

/** Encrypt and replace atomically: a failed age leaves the old file as it was. */
function write(invDir: string, scope: string, data: Record<string, unknown>): void {
  const file = scopeFile(invDir, scope);
  let cipher: Buffer;
  try {
    cipher = ageEncrypt(Buffer.from(stringify(data)), recipientsFile(invDir));
  } catch (e) {
    if (!(e instanceof AgeError)) throw e;
    throw new InputError([{ file: recipientsFile(invDir), at: '', expected: 'age recipients (age1…, ssh keys or plugin recipients)', found: `age: ${e.message}` }]);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, cipher);
  fs.renameSync(tmp, file);
}

async function readStdin(what: string, hidden = false): Promise<string> {
  if (process.stdin.isTTY) {
    if (!hidden) throw cmdLine(`${what} on stdin, piped in`, 'a terminal');
    return readHidden(what);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw cmdLine(what, 'empty stdin');
  return text;
}

const mask = (v: unknown): unknown => (isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)])) : REDACTED);
const leaves = (v: unknown, p: string[] = []): string[] => (isPlainObject(v) ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...p, k])) : [p.join('.')]);

function set(data: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = data;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

function unset(data: Record<string, unknown>, keys: string[]): void {
  let cur: unknown = data;
  for (const k of keys.slice(0, -1)) cur = isPlainObject(cur) ? cur[k] : undefined;
  if (isPlainObject(cur)) delete cur[keys[keys.length - 1]!];
}

/** Typed at a terminal: raw mode, nothing echoed, the value only in this process's memory. */
function readHidden(what: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt: keys typed as soon as it shows are never echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(`${what} (not shown; Enter to finish): `);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else if (value === '') reject(cmdLine(what, 'an empty value'));
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(cmdLine(what, 'input cancelled'));
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
