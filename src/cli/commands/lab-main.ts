// `provision lab up|down|status INVENTORY` and `provision lab reset [INVENTORY] HOST`.
import fs from 'node:fs';
import path from 'node:path';
import { loadInventory } from '../../inventory/load.js';
import { InputError } from '../../input/errors.js';
import type { LabFleet } from '../../lab/index.js';
import { labCommand } from './lab.js';
import type { Args } from '../args.js';
import type { Io } from '../io.js';

export async function labMain(a: Args, io: Io): Promise<number> {
  const [sub, ...rest] = a.positionals;
  if (sub !== 'up' && sub !== 'down' && sub !== 'status' && sub !== 'reset') {
    throw new InputError([{ file: '(command line)', at: 'lab', expected: 'one of up, down, status, reset', found: sub ? `"${sub}"` : 'nothing' }]);
  }
  let invDir = rest[0];
  let host: string | undefined;
  if (sub === 'reset') {
    // `lab reset HOST` uses inventory/lab; `lab reset INVENTORY HOST` names it.
    if (rest.length === 1) [invDir, host] = ['inventory/lab', rest[0]];
    else [invDir, host] = [rest[0], rest[1]];
    if (!host) throw new InputError([{ file: '(command line)', at: 'lab reset', expected: 'a HOST name', found: 'nothing' }]);
  }
  if (!invDir) throw new InputError([{ file: '(command line)', at: `lab ${sub}`, expected: 'an inventory directory, e.g. inventory/lab', found: 'nothing' }]);
  const fleet = labFleet(invDir, host);
  return labCommand(sub, fleet, { json: a.json, installDeps: a.installDeps || !!process.env.CI, host, wipe: a.wipe });
}

/** The lab part of an inventory: its `lab:` section, hosts, known_hosts and key. */
export function labFleet(invDir: string, host?: string): LabFleet {
  // The lab's secrets are not opened here: `lab up` may first have to make them for this machine.
  const inv = loadInventory(invDir, { secrets: false });
  const file = path.join(inv.dir, 'hosts.yaml');
  if (!inv.lab) throw new InputError([{ file, at: 'lab', expected: 'a lab section (bridge, network) to run this inventory as lab hosts', found: 'nothing' }]);
  if (host && !inv.hosts.has(host)) throw new InputError([{ file, at: 'hosts', expected: `a host of ${inv.name} (${[...inv.hosts.keys()].join(', ')})`, found: `"${host}"` }]);
  const keys = new Set([...inv.hosts.values()].map((h) => h.key));
  const key = [...keys][0];
  if (keys.size !== 1 || !key) throw new InputError([{ file, at: 'defaults.key', expected: 'one key file for every lab host (the lab key pair)', found: keys.size > 1 ? 'different keys per host' : 'no key' }]);
  if (!fs.existsSync(path.dirname(inv.knownHosts))) throw new InputError([{ file, at: 'defaults.known_hosts', expected: 'a path in an existing directory', found: inv.knownHosts }]);
  return {
    inventoryName: inv.name,
    inventoryDir: inv.dir,
    bridge: inv.lab.bridge,
    network: inv.lab.network,
    machine: inv.lab.machine,
    vmPackages: inv.lab.vm_packages,
    knownHosts: inv.knownHosts,
    keyPath: key,
    hosts: [...inv.hosts.values()].map((h) => ({ name: h.name, address: h.address, jump: h.jump ? inv.hosts.get(h.jump)!.address : undefined, user: h.user, os: h.spec.os })),
  };
}
