import { loadInventory } from '../../inventory/load.js';
import { InputError } from '../../input/errors.js';
import type { Args } from '../args.js';
import type { Io } from '../io.js';

/** `provision inventory INV --json`: the resolved inventory, as the engine sees it. */
export function inventoryCommand(a: Args, io: Io): number {
  const dir = a.positionals[0];
  if (!dir) throw new InputError([{ file: '(command line)', at: 'INVENTORY', expected: 'an inventory directory', found: 'nothing' }]);
  const inv = loadInventory(dir);
  const data = {
    inventory: inv.dir,
    knownHosts: inv.knownHosts,
    lab: inv.lab ?? null,
    groups: Object.fromEntries([...inv.groups.values()].map((g) => [g.name, { hosts: g.hosts, children: g.children }])),
    hosts: Object.fromEntries(
      [...inv.hosts.values()].map((h) => [
        h.name,
        { address: h.address, port: h.port, user: h.user, key: h.key ?? null, jump: h.jump ?? null, sizing: h.sizing, spec: h.spec, groups: h.groups, vars: h.vars, varFiles: h.varSources.map((s) => s.file) },
      ]),
    ),
  };
  if (a.json) io.out(JSON.stringify(data, null, 2));
  else for (const [name, h] of Object.entries(data.hosts)) io.out(`${name}  ${h.user}@${h.address}:${h.port}${h.jump ? ` via ${h.jump}` : ''}  groups: ${h.groups.join(', ')}`);
  return 0;
}
