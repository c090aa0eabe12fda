// Secrets in the controller: the opaque wrapper, the redactor, and resources that become sensitive
// because their desired state carries a secret — with no flag from the role.
import { describe, test, expect } from '@jest/globals';
import { inspect } from 'node:util';
import { Type } from '@sinclair/typebox';
import * as r from '../../../src/resources/index.js';
import { redact, SecretValue, Secret, secretPaths, carriesSecret, revealAll } from '../../../src/secrets/value.js';

const PW = 'db-pass-W0rd:"quoted"\\x';
const pw = new SecretValue(PW);

describe('SecretValue never turns into its plaintext by accident', () => {
  test('JSON, inspect and string conversion', () => {
    expect(JSON.stringify({ pw })).toBe('{"pw":"(sensitive)"}');
    expect(inspect({ pw })).toBe("{ pw: (sensitive) }");
    expect(() => `${pw}`).toThrow(/secret was used as a string/);
    expect(() => String(pw)).toThrow(/reveal\(\)/);
    expect(pw.reveal()).toBe(PW);
  });

  test('Secret() marks the schema; secretPaths finds marked vars, nested too', () => {
    const schema = Type.Object({ a: Type.String(), b: Secret(Type.String({ minLength: 4 })), c: Type.Object({ d: Secret() }) });
    expect(secretPaths(schema)).toEqual([['b'], ['c', 'd']]);
    expect((schema.properties.b as unknown as { minLength: number }).minLength).toBe(4);
  });

  test('revealAll gives templates the plaintext', () => {
    expect(revealAll({ a: [pw], b: 1 })).toEqual({ a: [PW], b: 1 });
  });
});

describe('redact: every known plaintext and its encoded forms', () => {
  const b = Buffer.from(PW);
  test.each([
    ['plain', `x ${PW} y`],
    ['base64', `x ${b.toString('base64')} y`],
    ['base64 unpadded', `x ${b.toString('base64').replace(/=+$/, '')} y`],
    ['base64url', `x ${b.toString('base64url')} y`],
    ['hex', `x ${b.toString('hex')} y`],
    ['HEX', `x ${b.toString('hex').toUpperCase()} y`],
    ['JSON-escaped', `x ${JSON.stringify(PW)} y`],
  ])('%s', (_name, text) => {
    const out = redact(text);
    expect(out).toMatch(/^x "?\(sensitive\)"? y$/);
  });

  test.each([0, 1, 2, 5])('inside the base64 of a whole file (secret at byte %i)', (at) => {
    const encoded = Buffer.concat([Buffer.from('x'.repeat(at)), b, Buffer.from('\nnext line\n')]).toString('base64');
    // off a 3-byte boundary the secret's own base64 is not in there: the shifted forms are needed
    if (at % 3 !== 0) expect(encoded).not.toContain(b.toString('base64').slice(0, 8));
    const out = redact(encoded);
    expect(out).toContain('(sensitive)');
    expect(encoded.length - out.length).toBeGreaterThanOrEqual(12); // most of the secret's ~31 characters went
  });

  test('other text is left as it is; short values are never registered', () => {
    new SecretValue('short');
    expect(redact('a short text')).toBe('a short text');
  });
});

describe('sensitive by construction', () => {
  test('a file whose content carries a secret is sensitive: no content in probe, summary or diff', () => {
    const f = r.file({ path: '/etc/app.conf', content: `password = ${PW}\n`, mode: '0600' });
    expect(f.sensitive).toBe(true);
    expect(f.probe()).not.toContain('base64 -w0');
    const c = f.diff({ kind: 'file', owner: 'root', group: 'root', mode: '0600', sha256: 'x', size: 3 } as never)!;
    expect(c).toMatchObject({ sensitive: true, summary: 'update /etc/app.conf: (sensitive) changed', diff: 'content: (sensitive) changed' });
    const created = f.diff({ kind: 'missing' } as never)!;
    expect(JSON.stringify(created)).not.toContain(PW);
    expect(created.diff).toBe('content: (sensitive) new');
  });

  test('a SecretValue is accepted as file content, and a changed secret changes the desired hash', () => {
    const a = r.file({ path: '/etc/k', content: pw, mode: '0600' });
    const b = r.file({ path: '/etc/k', content: new SecretValue('another-secret-value'), mode: '0600' });
    expect(a.sensitive).toBe(true);
    expect(a.desired).not.toBe(b.desired);
  });

  test('a file without a secret stays visible', () => {
    expect(r.file({ path: '/etc/motd', content: 'hello\n' }).sensitive).toBe(false);
    expect(carriesSecret({ content: 'hello' })).toBe(false);
  });

  test('a file holding a secret is never world-readable', () => {
    expect(() => r.file({ path: '/etc/app.conf', content: `password = ${PW}\n` })).toThrow(/holds a secret but mode 0644 lets every user read it/);
    expect(() => r.file({ path: '/etc/app.conf', content: pw, mode: '0640' })).not.toThrow();
  });

  test('a guarded resource cannot hold a secret (its backup would be a copy)', () => {
    expect(() => r.file({ path: '/etc/ssh/x', content: pw, mode: '0600', guard: true })).toThrow(/cannot be guarded/);
  });

  test('a command takes a secret on stdin only: a builtin pipes it, never argv', () => {
    const c = r.command({ name: 'register', run: 'register-token --stdin', creates: '/var/lib/x', stdin: pw });
    expect(c.sensitive).toBe(true);
    const script = c.apply({ done: false });
    expect(script).toContain(`printf '%s' '${PW.replace(/'/g, `'\\''`)}' | (\nregister-token --stdin\n)`);
    expect(c.diff({ done: false })).toEqual({ id: 'command:register', type: 'command', action: 'run', summary: 'run "register" (/var/lib/x does not exist)', sensitive: true });
    for (const field of ['run', 'unless', 'name'] as const) {
      const opts = { name: 'x', run: 'true', creates: '/x', [field]: `tool --token ${PW}` };
      expect(() => r.command(opts)).toThrow(/carries a secret.* on stdin/);
    }
  });

  test('types that cannot keep a secret private refuse it', () => {
    expect(() => r.line({ path: '/etc/x', line: `token=${PW}` })).toThrow(/line:\/etc\/x: carries a secret/);
    expect(() => r.systemdUnit({ name: 'x.service', content: `[Service]\nEnvironment=T=${PW}\n` })).toThrow(/EnvironmentFile=/);
  });
});
