// The lab inventory's vars for these roles validate against the role schemas (as the engine will
// check them before any connection).
import { describe, test, expect } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot, roles, withDefaults } from './helpers.js';

describe('inventory/lab vars', () => {
  const dirs = ['group_vars', 'host_vars'].map((d) => path.join(repoRoot, 'inventory/lab', d)).filter((d) => fs.existsSync(d));
  const files = dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => path.join(d, f)));

  test('there are lab vars for the three roles', () => {
    const keys = new Set(files.flatMap((f) => Object.keys((parse(fs.readFileSync(f, 'utf8')) as object) ?? {})));
    for (const r of ['base', 'bastion', 'drand-node']) expect(keys).toContain(r);
  });

  test.each(files.map((f) => [path.relative(repoRoot, f), f]))('%s validates against the role schemas', (_rel, file) => {
    const doc = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    for (const [role, vars] of Object.entries(doc)) {
      const def = roles[role];
      if (!def) continue; // another engineer's role
      expect(() => withDefaults(def, vars)).not.toThrow();
    }
  });
});
