import { loadInventory } from '../../inventory/load.js';
import { InputError } from '../../input/errors.js';
import type { Args } from '../args.js';
import type { Io } from '../io.js';
import { deepMerge, isPlainObject } from '../../inventory/merge.js';
import { REDACTED } from '../../secrets/value.js';
import type { VarSource } from '../../inventory/types.js';

/** The merged vars with every value from an encrypted file shown as "(sensitive)". */
function shownVars(sources: VarSource[]): Record<string, unknown> {
  const mask = (v: unknown): unknown => (isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)])) : REDACTED);
  return sources.reduce<Record<string, unknown>>((acc, s) => deepMerge(acc, s.secret ? (mask(s.data) as Record<string, unknown>) : s.data), {});
}

/** `provision inventory INV --json`: the resolved inventory, as the engine sees it. */
export function inventoryCommand(a: Args, io: Io): number {
  const dir = a.positionals[0];
  if (!dir) throw new InputError([{ file: '(command line)', at: 'INVENTORY', expected: 'an inventory directory', found: 'nothing' }]);
  const inv = loadInventory(dir, { identity: a.identity });
  const data = {
    inventory: inv.dir,
    knownHosts: inv.knownHosts,
    lab: inv.lab ?? null,
    groups: Object.fromEntries([...inv.groups.values()].map((g) => [g.name, { hosts: g.hosts, children: g.children }])),
    hosts: Object.fromEntries(
      [...inv.hosts.values()].map((h) => [
        h.name,
        { address: h.address, port: h.port, user: h.user, key: h.key ?? null, jump: h.jump ?? null, sizing: h.sizing, spec: h.spec, groups: h.groups, vars: shownVars(h.varSources), varFiles: h.varSources.map((s) => s.file) },
      ]),
    ),
  };
  if (a.json) io.out(JSON.stringify(data, null, 2));
  else for (const [name, h] of Object.entries(data.hosts)) io.out(`${name}  ${h.user}@${h.address}:${h.port}${h.jump ? ` via ${h.jump}` : ''}  groups: ${h.groups.join(', ')}`);
  return 0;
}
