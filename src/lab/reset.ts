// `lab reset HOST`: a lost machine for disaster-recovery drills. The host is stopped, its disk
// wiped, and it boots fresh from the base: new machine-id, new SSH host key (known_hosts updated).
import { ensureBase } from './base.js';
import { DEFAULT_RELEASE } from '../facts/release.js';
import { bootHost, prepareHost, runningPid, stopHost, wipeHost } from './host.js';
import { ensureLabKey } from './keys.js';
import { updateKnownHostsFile } from './knownhosts.js';
import { readAptSources } from './mirror.js';
import { ensureLabNetwork } from './network.js';
import { hostPaths } from './paths.js';
import { checkLabPrerequisites } from './prereqs.js';
import { waitForSsh } from './ssh.js';
import { DEFAULT_SSH_TIMEOUT_MS } from './up.js';
import { assertValidFleet } from './validate.js';
import type { LabEmit, LabFleet } from './types.js';

export async function labReset(fleet: LabFleet, hostName: string, emit: LabEmit, opts: { sshTimeoutMs?: number } = {}): Promise<{ hostKey: string }> {
  assertValidFleet(fleet);
  const host = fleet.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`lab reset: "${hostName}" is not a host of ${fleet.inventoryName} (${fleet.hosts.map((h) => h.name).join(', ')})`);
  await checkLabPrerequisites({ installDeps: false }, emit);
  const sources = await readAptSources();
  const labKey = await ensureLabKey(fleet.keyPath, emit);
  const base = await ensureBase(sources, host.os ?? DEFAULT_RELEASE, emit);
  const net = await ensureLabNetwork(fleet, sources, emit);

  await stopHost(fleet, host.name, emit);
  await wipeHost(fleet, host.name);
  emit({ type: 'lab.host.wiped', host: host.name });
  const hostKey = await prepareHost(fleet, host, base, net, labKey, emit);
  await updateKnownHostsFile(fleet.knownHosts, [{ address: host.address, key: hostKey }]);
  emit({ type: 'lab.knownhosts.updated', path: fleet.knownHosts, hosts: [host.name] });
  const t0 = Date.now();
  await bootHost(fleet, host, emit);
  await waitForSsh(fleet, host, opts.sshTimeoutMs ?? DEFAULT_SSH_TIMEOUT_MS, async () => !!(await runningPid(fleet, host.name)), hostPaths(fleet, host.name).consoleLog);
  emit({ type: 'lab.host.booted', host: host.name, seconds: Math.round((Date.now() - t0) / 100) / 10 });
  return { hostKey };
}
