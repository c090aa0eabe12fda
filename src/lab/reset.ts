// `lab reset HOST`: a lost machine for disaster-recovery drills. The host is stopped, its disk
// wiped, and it boots fresh from the base: new machine-id, new SSH host key, whose fingerprint is
// returned (the inventory's known_hosts is left alone: see below).
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureBase } from './base.js';
import { fingerprint } from '../transport/known-hosts.js';
import { DEFAULT_RELEASE } from '../facts/release.js';
import { bootHost, machineBase, prepareHost, runningPid, sshTimeoutMs, stopHost, wipeHost } from './host.js';
import { ensureLabKey } from './keys.js';
import { updateKnownHostsFile } from './knownhosts.js';
import { readAptSources } from './mirror.js';
import { ensureLabNetwork } from './network.js';
import { hostPaths } from './paths.js';
import { checkLabPrerequisites } from './prereqs.js';
import { waitForSsh } from './ssh.js';
import { assertValidFleet } from './validate.js';
import type { LabEmit, LabFleet } from './types.js';

export async function labReset(fleet: LabFleet, hostName: string, emit: LabEmit, opts: { sshTimeoutMs?: number } = {}): Promise<{ hostKey: string; fingerprint: string }> {
  assertValidFleet(fleet);
  const host = fleet.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`lab reset: "${hostName}" is not a host of ${fleet.inventoryName} (${fleet.hosts.map((h) => h.name).join(', ')})`);
  await checkLabPrerequisites({ installDeps: false, vm: fleet.machine === 'vm' }, emit);
  const sources = await readAptSources();
  const labKey = await ensureLabKey(fleet.keyPath, emit);
  const base = await machineBase(fleet, await ensureBase(sources, host.os ?? DEFAULT_RELEASE, emit), emit);
  const net = await ensureLabNetwork(fleet, sources, emit);

  await stopHost(fleet, host.name, emit);
  await wipeHost(fleet, host.name);
  emit({ type: 'lab.host.wiped', host: host.name });
  const hostKey = await prepareHost(fleet, host, base, net, labKey, emit);
  // A lost machine's replacement: the inventory's known_hosts keeps the OLD key, as it would in
  // production — its new key is learnt out of band (this fingerprint) and given to `provision
  // rebuild --fingerprint`. The lab's own login check uses a file of its own.
  // (the inventory's file with this host's new key: its jump host is checked too)
  const own = path.join(hostPaths(fleet, host.name).dir, 'known_hosts.reset');
  await copyFile(fleet.knownHosts, own).catch(() => {});
  await updateKnownHostsFile(own, [{ address: host.address, key: hostKey }]);
  const t0 = Date.now();
  await bootHost(fleet, host, emit);
  await waitForSsh({ ...fleet, knownHosts: own }, host, opts.sshTimeoutMs ?? sshTimeoutMs(fleet), async () => !!(await runningPid(fleet, host.name)), hostPaths(fleet, host.name).consoleLog);
  emit({ type: 'lab.host.booted', host: host.name, seconds: Math.round((Date.now() - t0) / 100) / 10 });
  return { hostKey, fingerprint: fingerprint(Buffer.from(hostKey.trim().split(/\s+/)[1] ?? '', 'base64')) };
}
