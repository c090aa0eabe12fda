// Load playbooks/<name>.yaml: an ordered list of plays. Validated offline; role names and host
// patterns are checked against the role registry and the inventory by src/plan/check.ts.
import { readYamlFile } from '../input/yaml-file.js';
import { checkSchema } from '../input/schema-check.js';
import { InputError } from '../input/errors.js';
import { PlaybookSchema, type PlayEntry } from './schema.js';
import type { Play, Playbook } from './types.js';

export function loadPlaybook(file: string): Playbook {
  const yaml = readYamlFile(file, 'playbook');
  const problems = checkSchema(PlaybookSchema, yaml.data, file, [], (at) => yaml.lineOf(at));
  if (problems.length) throw new InputError(problems);
  const plays = (yaml.data as PlayEntry[]).map((p, index): Play => ({
    index,
    name: p.name,
    pattern: p.hosts,
    roles: p.roles.map((r) => (typeof r === 'string' ? { name: r, vars: {} } : { name: r.role, vars: r.vars ?? {} })),
    serial:
      p.serial === undefined ? undefined : typeof p.serial === 'number' ? { count: p.serial } : { percent: Number(p.serial.slice(0, -1)) },
    maxFailPercentage: p.max_fail_percentage,
    tags: p.tags ?? [],
  }));
  return { file, plays, lineOf: yaml.lineOf };
}

/** Split a play's hosts into batches: `serial` is a count or a percentage (rounded down, at least 1). */
export function batches<T>(hosts: T[], serial: Play['serial']): T[][] {
  if (!serial || hosts.length === 0) return hosts.length ? [hosts] : [];
  const size = 'count' in serial ? serial.count : Math.max(1, Math.floor((hosts.length * serial.percent) / 100));
  const out: T[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}
