// Parse a recorded probe output with the resource of the same case (see test/fixtures/probes/cases.ts).
import fs from 'node:fs';
import path from 'node:path';
import { cases } from '../../fixtures/probes/cases.js';
import type { Change, Resource } from '../../../src/resources/index.js';

export const fixturePath = (type: string, name: string): string =>
  path.join(process.cwd(), 'test/fixtures/probes', type, `${name}.out`);

export const fixture = (type: string, name: string): string => fs.readFileSync(fixturePath(type, name), 'utf8');

export interface Probed {
  resource: Resource;
  output: string;
  state: unknown;
  change: Change | null;
}

/** the case's resource, its recorded output, the parsed state and the diff */
export function probed(type: string, name: string): Probed {
  const c = cases[type]?.[name];
  if (!c) throw new Error(`no probe case ${type}/${name}`);
  const resource = c.resource();
  const output = fixture(type, name);
  const state = resource.parse(output, 0);
  return { resource, output, state, change: resource.diff(state) };
}

/** the change, asserting there is one */
export function changed(type: string, name: string): Change & Probed {
  const p = probed(type, name);
  if (p.change === null) throw new Error(`${type}/${name}: expected a change, got none`);
  return { ...p, ...p.change };
}
