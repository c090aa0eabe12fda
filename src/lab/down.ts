// `lab down`: every host of the inventory powered off, overlays unmounted, then the network (apt
// cache, nft table, bridge, ip_forward) undone. Host disks (upper layers) are kept unless `wipe`:
// a later `up` boots the same machines, with the same keys, like powering servers back on.
import { readdir, rmdir } from 'node:fs/promises';
import { stopHost, wipeHost } from './host.js';
import { teardownLabNetwork } from './network.js';
import { inventoryStateDir } from './paths.js';
import { validateLabFleet } from './validate.js';
import type { LabEmit, LabFleet } from './types.js';

export interface LabDownOptions {
  /** also delete the hosts' disks and keys (their state directory) */
  wipe?: boolean;
}

export async function labDown(fleet: LabFleet, emit: LabEmit, opts: LabDownOptions = {}): Promise<void> {
  // Down must work for a fleet that is only partly valid now (an edited inventory), but never with
  // names that would put paths or interface names out of bounds.
  const unsafe = validateLabFleet(fleet).filter((e) => /^(inventory name|bridge name|host name)/.test(e));
  if (unsafe.length) throw new Error(`cannot bring down lab "${fleet.inventoryName}":\n  - ${unsafe.join('\n  - ')}`);
  // Hosts that left the inventory while running are ours too: stop whatever has state here.
  const onDisk = await readdir(inventoryStateDir(fleet)).catch(() => [] as string[]);
  const names = [...new Set([...fleet.hosts.map((h) => h.name), ...onDisk])];
  const results = await Promise.allSettled(names.map((n) => stopHost(fleet, n, emit)));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length) throw new Error(`lab down: could not stop every host (the network is left up for them):\n  - ${failed.join('\n  - ')}`);
  if (opts.wipe) {
    for (const n of names) {
      if (await wipeHost(fleet, n)) emit({ type: 'lab.host.wiped', host: n });
    }
    await rmdir(inventoryStateDir(fleet)).catch(() => {});
  }
  await teardownLabNetwork(fleet, emit);
}
