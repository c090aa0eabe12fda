// The lab bridge carries the gateway address (this machine as the hosts see it). We only ever touch
// a bridge we created: ownership is recorded before creation and checked before deletion.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, runOk } from './exec.js';
import { inCidr, parseCidr, parseIPv4 } from './ipv4.js';
import { netStateDir } from './paths.js';

interface IpAddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

const ownerFile = (bridge: string) => path.join(netStateDir(bridge), 'owner');

/** The lab inventory that created this bridge, or '' if none did. */
export async function bridgeOwner(bridge: string): Promise<string> {
  return (await readFile(ownerFile(bridge), 'utf8').catch(() => '')).trim();
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name])).code === 0;
}

async function addresses(): Promise<IpAddrInfo[]> {
  return JSON.parse((await runOk('ip', ['-j', 'addr', 'show'])) || '[]') as IpAddrInfo[];
}

/** Creates (or adopts our own) bridge with gateway/prefix, up. Refuses a foreign bridge or an overlapping network. */
export async function ensureBridge(bridge: string, network: string, gateway: string, owner: string): Promise<void> {
  const net = parseCidr(network)!;
  const recorded = await bridgeOwner(bridge);
  const exists = await linkExists(bridge);
  if (recorded && recorded !== owner) {
    throw new Error(`bridge ${bridge} belongs to lab inventory "${recorded}"; give "${owner}" its own bridge`);
  }
  if (exists && !recorded) throw new Error(`interface ${bridge} exists and was not created by provision lab: choose another bridge name`);
  for (const link of await addresses()) {
    if (link.ifname === bridge) continue;
    for (const a of link.addr_info ?? []) {
      const n = a.family === 'inet' ? parseIPv4(a.local) : undefined;
      if (n === undefined) continue;
      if (inCidr(n, net) || inCidr(net.base, { base: n, prefix: a.prefixlen })) {
        throw new Error(`lab network ${network} overlaps ${a.local}/${a.prefixlen} on ${link.ifname}: choose another network`);
      }
    }
  }
  await mkdir(netStateDir(bridge), { recursive: true });
  await writeFile(ownerFile(bridge), `${owner}\n`);
  if (!exists) await runOk('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  await runOk('ip', ['addr', 'replace', `${gateway}/${net.prefix}`, 'dev', bridge]);
  await runOk('ip', ['link', 'set', 'dev', bridge, 'up']);
}

export async function removeBridge(bridge: string, owner: string): Promise<boolean> {
  if ((await bridgeOwner(bridge)) !== owner) return false;
  const existed = await linkExists(bridge);
  if (existed) await runOk('ip', ['link', 'delete', 'dev', bridge]);
  await rm(ownerFile(bridge), { force: true });
  return existed;
}
