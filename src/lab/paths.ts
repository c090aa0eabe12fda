// Where the lab keeps things, all outside the repository: the shared base is a cache (rebuildable),
// host layers and pids are state (a host's upper layer is its disk).
import path from 'node:path';
import type { LabFleet } from './types.js';

export const CACHE_DIR = '/var/cache/provision/lab';
export const STATE_DIR = '/var/lib/provision/lab';

export interface HostPaths {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  /** pid of the systemd-nspawn we started */
  pidFile: string;
  /** the base this host's upper layer was made on (an upper only makes sense on its own lower) */
  baseFile: string;
  consoleLog: string;
}

export function inventoryStateDir(fleet: Pick<LabFleet, 'inventoryName'>): string {
  return path.join(STATE_DIR, 'hosts', fleet.inventoryName);
}

export function hostPaths(fleet: Pick<LabFleet, 'inventoryName'>, host: string): HostPaths {
  const dir = path.join(inventoryStateDir(fleet), host);
  return {
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    merged: path.join(dir, 'merged'),
    pidFile: path.join(dir, 'nspawn.pid'),
    baseFile: path.join(dir, 'base'),
    consoleLog: path.join(dir, 'console.log'),
  };
}

/** Per-bridge network state: who owns the bridge, the apt cache daemon. */
export function netStateDir(bridge: string): string {
  return path.join(STATE_DIR, 'net', bridge);
}

/** ip_forward is machine-wide: its previous value and the bridges that need it live here. */
export const IP_FORWARD_STATE = path.join(STATE_DIR, 'ip_forward.json');

/** Container (nspawn machine) name: unique across fleets, since nspawn names the host-side veth after it. */
export function machineName(fleet: Pick<LabFleet, 'bridge'>, host: string): string {
  return `${fleet.bridge}-${host}`;
}
