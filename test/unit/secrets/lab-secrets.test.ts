// `lab up` keeps a lab inventory's secrets openable on this machine: made once for the lab
// identity, left alone while they open, made again (new random values) when the identity changed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { ensureLabSecrets } from '../../../src/lab/secrets.js';
import { decryptScope } from '../../../src/secrets/store.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { InputError } from '../../../src/input/errors.js';
import type { LabEvent } from '../../../src/lab/index.js';

describe('lab secrets', () => {
  test('generated for the lab identity, kept while they open, regenerated for a new identity', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-labsec-'));
    const identity = path.join(dir, 'state/age-identity.txt');
    fs.mkdirSync(path.join(dir, 'secrets'));
    fs.writeFileSync(path.join(dir, 'secrets/lab-secrets.yaml'), 'apps:\n  my-role: [db_password, api_token]\n');
    const events: LabEvent[] = [];
    ensureLabSecrets(dir, (e) => events.push(e), identity);
    expect(events.map((e) => e.type)).toEqual(['lab.identity.created', 'lab.secrets.generated']);
    expect(fs.statSync(identity).mode & 0o777).toBe(0o600);
    const first = decryptScope(path.join(dir, 'secrets/apps.age'), identity).data as { 'my-role': Record<string, string> };
    expect(Object.keys(first['my-role'])).toEqual(['db_password', 'api_token']);
    expect(first['my-role'].db_password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(fs.readFileSync(path.join(dir, 'secrets/apps.age'), 'utf8')).not.toContain(first['my-role'].db_password);

    events.length = 0;
    ensureLabSecrets(dir, (e) => events.push(e), identity);
    expect(events).toEqual([]);

    // a fresh machine: a new identity cannot open the old file, so new values are made for it
    fs.rmSync(identity);
    ensureLabSecrets(dir, (e) => events.push(e), identity);
    expect(events.map((e) => e.type)).toEqual(['lab.identity.created', 'lab.secrets.generated']);
    const second = decryptScope(path.join(dir, 'secrets/apps.age'), identity).data as { 'my-role': Record<string, string> };
    expect(second['my-role'].db_password).not.toBe(first['my-role'].db_password);
  });

  test('two roles can be given the same generated value (snapshot and snapshot-server agree on one master)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-labsec-'));
    const identity = path.join(dir, 'state/age-identity.txt');
    fs.mkdirSync(path.join(dir, 'secrets'));
    fs.writeFileSync(path.join(dir, 'secrets/lab-secrets.yaml'), 'all:\n  snapshot: [master]\n  snapshot-server:\n    - master: snapshot.master\n');
    ensureLabSecrets(dir, () => {}, identity);
    const data = decryptScope(path.join(dir, 'secrets/all.age'), identity).data as Record<string, Record<string, string>>;
    expect(data['snapshot']!.master).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(data['snapshot-server']!.master).toBe(data['snapshot']!.master);
    fs.writeFileSync(path.join(dir, 'secrets/lab-secrets.yaml'), 'x:\n  a: [{ k: b.k }]\n');
    expect(() => ensureLabSecrets(dir, () => {}, identity)).toThrow(/x\.a\.k is the same as "b\.k", which this scope does not generate/);
  });

  test('before `lab up` made them, loading the lab inventory names the missing file and the command that makes it, not every var it would carry', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-labsec-'));
    fs.cpSync('inventory/lab', dir, { recursive: true, filter: (f) => !f.endsWith('.age') && path.basename(f) !== 'recipients' });
    let err: unknown;
    try {
      loadInventory(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([
      expect.objectContaining({ file: path.join(dir, 'secrets/all.age'), expected: expect.stringContaining(`\`provision lab up ${dir}\` generates on this machine`), found: 'no such file yet' }),
    ]);
  });
});
