// The lab network as one unit: bridge + ip_forward + our nft table + the apt cache. Brought up in
// that order, torn down in reverse; every step is idempotent.
//
// Why both an apt cache and a (narrow) forward path: apt on the hosts goes through apt-cacher-ng on
// the gateway, which needs no routing at all and fetches each file from the mirror once (20 hosts
// `apt-get update && install curl`: ~8 MB from the mirror instead of ~160 MB; wall time here is
// CPU-bound either way, 58 s warm vs 65 s direct on 2 vCPUs). The forward rule to the mirror's
// addresses on tcp 80/443 stays as the fallback for https sources and for tools that fetch from
// the mirror directly; everything else is refused, and no DNS server is reachable (see hostfiles.ts).
import { lookup } from 'node:dns/promises';
import { rm } from 'node:fs/promises';
import { aptProxyUrl, ensureAptCache, stopAptCache } from './aptcache.js';
import { bridgeOwner, ensureBridge, removeBridge } from './bridge.js';
import { formatIPv4, gatewayOf, parseCidr } from './ipv4.js';
import { enableForwarding, releaseForwarding } from './ipforward.js';
import { mirrorEndpoints, type AptSource } from './mirror.js';
import { applyLabRuleset, deleteLabRuleset } from './nft.js';
import { netStateDir } from './paths.js';
import type { LabEmit, LabFleet } from './types.js';

export interface MirrorAddress {
  host: string;
  address: string;
  ports: number[];
}

export interface LabNetwork {
  gateway: string;
  prefix: number;
  aptProxy: string;
  mirrors: MirrorAddress[];
}

export function gatewayAddress(fleet: LabFleet): string {
  return formatIPv4(gatewayOf(parseCidr(fleet.network)!));
}

/** Mirror host names resolved now (they may move between `up`s): IPv4 only, lab hosts have no IPv6 route. */
export async function resolveMirrors(sources: AptSource[]): Promise<MirrorAddress[]> {
  const out: MirrorAddress[] = [];
  for (const ep of mirrorEndpoints(sources)) {
    const addrs = await lookup(ep.host, { all: true, family: 4 }).catch((err: Error) => {
      throw new Error(`cannot resolve the Debian mirror ${ep.host} (from this machine's apt sources): ${err.message}`);
    });
    for (const a of addrs) if (!out.some((m) => m.address === a.address && m.host === ep.host)) out.push({ host: ep.host, address: a.address, ports: ep.ports });
  }
  return out;
}

export async function ensureLabNetwork(fleet: LabFleet, sources: AptSource[], emit: LabEmit): Promise<LabNetwork> {
  const gateway = gatewayAddress(fleet);
  const prefix = parseCidr(fleet.network)!.prefix;
  const mirrors = await resolveMirrors(sources);
  await ensureBridge(fleet.bridge, fleet.network, gateway, fleet.inventoryName);
  await enableForwarding(fleet.bridge);
  await applyLabRuleset({ bridge: fleet.bridge, network: fleet.network, mirrors });
  const cache = await ensureAptCache(fleet.bridge, gateway);
  const aptProxy = aptProxyUrl(gateway);
  if (cache.started) emit({ type: 'lab.aptcache.started', url: aptProxy, pid: cache.pid });
  emit({ type: 'lab.network.ready', bridge: fleet.bridge, gateway, mirrors: mirrors.map((m) => `${m.host} ${m.address}`) });
  return { gateway, prefix, aptProxy, mirrors };
}

/** Call only once no host of the fleet runs: the veths hang off this bridge. */
export async function teardownLabNetwork(fleet: LabFleet, emit: LabEmit): Promise<void> {
  const owner = await bridgeOwner(fleet.bridge);
  if (owner && owner !== fleet.inventoryName) {
    emit({ type: 'lab.warning', message: `bridge ${fleet.bridge} belongs to lab inventory "${owner}": its network is left up` });
    return;
  }
  const acng = await stopAptCache(fleet.bridge);
  if (acng) emit({ type: 'lab.aptcache.stopped', pid: acng });
  await deleteLabRuleset(fleet.bridge);
  if (await removeBridge(fleet.bridge, fleet.inventoryName)) emit({ type: 'lab.network.removed', bridge: fleet.bridge });
  // acng's config, pid file and logs; the download cache itself stays under /var/cache for the next up
  await rm(netStateDir(fleet.bridge), { recursive: true, force: true });
  const restored = await releaseForwarding(fleet.bridge);
  if (restored !== undefined) emit({ type: 'lab.ipforward.restored', value: restored });
}
