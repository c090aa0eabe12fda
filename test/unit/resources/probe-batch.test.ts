// All recorded probes in ONE script, the way the engine batches a host: under `set -u`, each in a
// subshell between markers. Every probe must give back control (no exit, no stdin read), leave the
// host untouched, and print there what it prints alone.
import { describe, test, expect, beforeAll } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { cases, ROOT } from '../../fixtures/probes/cases.js';
import { runProbe, runProbeBatch } from './local-sh.js';

const all = Object.entries(cases).flatMap(([type, byName]) => Object.entries(byName).map(([name, c]) => ({ type, name, c })));

/** every path under ROOT with its kind, mode, owner and content hash */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((rel) => {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    const hash = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : '';
    return `${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${hash}`;
  });
}

let outputs: Array<string | undefined>;
let before: string[];
beforeAll(() => {
  fs.rmSync(ROOT, { recursive: true, force: true });
  fs.mkdirSync(ROOT, { recursive: true });
  for (const { c } of all) c.setup?.();
  before = snapshot(ROOT);
  outputs = runProbeBatch(['set -u', ...all.map(({ c }) => c.resource().probe())], ROOT).slice(1);
});

describe('probe batch', () => {
  test('every probe hands control back to the next one', () => {
    const lost = all.filter((_, i) => outputs[i] === undefined).map(({ type, name }) => `${type}/${name}`);
    expect(lost).toEqual([]);
    expect(outputs).toHaveLength(all.length);
  });

  test('probes change nothing and run no hostile value', () => {
    expect(snapshot(ROOT)).toEqual(before);
    expect(fs.existsSync(path.join(ROOT, 'pwned'))).toBe(false);
  });

  // Only what lives under ROOT: packages, users, services and the live ruleset may move meanwhile.
  const local = all.map(({ type, name }, i) => [type, name, i] as const).filter(([type]) => ['file', 'directory', 'line', 'command'].includes(type));
  test.each(local)('%s/%s prints in the batch what it prints alone', (_t, _n, i) => {
    expect(outputs[i]).toBe(runProbe(all[i]?.c.resource().probe() ?? 'false', ROOT).stdout);
  });
});
