// Refuse a bad fleet before anything is created or booted: every problem is reported at once.
import path from 'node:path';
import { broadcastOf, formatIPv4, gatewayOf, inCidr, isPrivate, isPrivateNetwork, maskOf, parseCidr, parseIPv4 } from './ipv4.js';
import type { LabFleet } from './types.js';

// Host names become hostnames, directory names and nspawn machine names: keep them DNS labels.
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const INVENTORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BRIDGE_NAME = /^[a-z0-9_-]{1,15}$/;
/** nspawn machine names ("<bridge>-<host>") must be valid hostnames of at most 64 chars */
const MACHINE_NAME_MAX = 64;

export function validateLabFleet(fleet: LabFleet): string[] {
  const errors: string[] = [];
  if (!INVENTORY_NAME.test(fleet.inventoryName)) {
    errors.push(`inventory name "${fleet.inventoryName}" must be 1-64 characters of letters, digits, ".", "_" or "-" (it names a directory)`);
  }
  if (!BRIDGE_NAME.test(fleet.bridge)) {
    errors.push(`bridge name "${fleet.bridge}" must be 1-15 characters of a-z, 0-9, "_" or "-" (a Linux interface name)`);
  }
  if (!path.isAbsolute(fleet.knownHosts)) errors.push(`knownHosts "${fleet.knownHosts}" must be an absolute path`);
  if (!path.isAbsolute(fleet.keyPath)) errors.push(`keyPath "${fleet.keyPath}" must be an absolute path`);

  const net = parseCidr(fleet.network);
  let gateway: number | undefined;
  if (!net) {
    errors.push(`network "${fleet.network}" is not an IPv4 CIDR like 10.213.7.0/24`);
  } else if ((net.base & ~maskOf(net.prefix)) >>> 0 !== 0) {
    errors.push(`network "${fleet.network}" has host bits set: did you mean ${formatIPv4((net.base & maskOf(net.prefix)) >>> 0)}/${net.prefix}?`);
  } else if (net.prefix < 8 || net.prefix > 29) {
    errors.push(`network "${fleet.network}" must have a prefix between /8 and /29`);
  } else if (!isPrivateNetwork(net)) {
    errors.push(`network "${fleet.network}" is not inside an RFC 1918 private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)`);
  } else {
    gateway = gatewayOf(net);
  }

  if (fleet.hosts.length === 0) errors.push('the fleet has no hosts');
  const byName = new Map<string, number>();
  const byAddress = new Map<number, string>();
  for (const h of fleet.hosts) {
    byName.set(h.name, (byName.get(h.name) ?? 0) + 1);
    if (!HOST_NAME.test(h.name)) {
      errors.push(`host name "${h.name}" must be a DNS label: a-z, 0-9 and "-", not starting or ending with "-"`);
    } else if (fleet.bridge.length + 1 + h.name.length > MACHINE_NAME_MAX) {
      errors.push(`host name "${h.name}" is too long: "${fleet.bridge}-${h.name}" (its container name) must be at most ${MACHINE_NAME_MAX} characters`);
    }
    const addr = parseIPv4(h.address);
    if (addr === undefined) {
      errors.push(`host ${h.name}: address "${h.address}" is not an IPv4 address`);
      continue;
    }
    const other = byAddress.get(addr);
    if (other !== undefined) errors.push(`hosts ${other} and ${h.name} both have address ${h.address}`);
    else byAddress.set(addr, h.name);
    if (!isPrivate(addr)) {
      errors.push(`host ${h.name}: address ${h.address} is not an RFC 1918 private address`);
    }
    if (net && gateway !== undefined) {
      if (!inCidr(addr, net)) errors.push(`host ${h.name}: address ${h.address} is outside the lab network ${fleet.network}`);
      else if (addr === gateway) errors.push(`host ${h.name}: address ${h.address} is the lab gateway (this machine, on bridge ${fleet.bridge})`);
      else if (addr === net.base) errors.push(`host ${h.name}: address ${h.address} is the network address of ${fleet.network}`);
      else if (addr === broadcastOf(net)) errors.push(`host ${h.name}: address ${h.address} is the broadcast address of ${fleet.network}`);
    }
  }
  for (const [name, n] of byName) if (n > 1) errors.push(`host name "${name}" appears ${n} times`);
  return errors;
}

/** Throws one error listing every problem; used by every lab operation before it touches the machine. */
export function assertValidFleet(fleet: LabFleet): void {
  const errors = validateLabFleet(fleet);
  if (errors.length) throw new Error(`invalid lab fleet "${fleet.inventoryName}":\n  - ${errors.join('\n  - ')}`);
}
