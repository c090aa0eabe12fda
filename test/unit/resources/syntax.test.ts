// Every script a resource can emit parses with dash (`sh -n`): probes, applies for the recorded
// states and for "nothing there yet", guard restores. Catches what no fixture runs (apt install,
// systemd units, services) before a host does.
import { describe, test, expect } from '@jest/globals';
import { cases, containerCases } from '../../fixtures/probes/cases.js';
import type { Resource } from '../../../src/resources/index.js';
import { fixture } from './fixture.js';
import { runSh } from './local-sh.js';

const named: Array<[string, () => Resource, string[]]> = [
  ...Object.entries(cases).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, c]): [string, () => Resource, string[]] => [`${type}/${name}`, c.resource, [fixture(type, name)]]),
  ),
  ...containerCases.map((c): [string, () => Resource, string[]] => [
    `${c.type}/ct-${c.name}`,
    c.resource,
    [fixture(c.type, `ct-${c.name}`), ...(c.observe ? [] : [fixture(c.type, `ct-${c.name}.after`)])],
  ]),
];

const syntaxError = (script: string): string => {
  const r = runSh(script, undefined, ['sh', '-n']);
  return r.status === 0 ? '' : r.stderr || `status ${r.status}`;
};

describe('sh -n', () => {
  test.each(named)('%s', (_name, make, outputs) => {
    const res = make();
    const scripts = [res.probe(), res.guardRestore?.() ?? ''];
    for (const out of [...outputs, '']) scripts.push(res.apply(res.parse(out, 0)));
    for (const s of scripts) expect(syntaxError(s)).toBe('');
  });

  test('a broken script is caught (the check itself works)', () => {
    expect(syntaxError('if true; then\n')).not.toBe('');
  });
});
