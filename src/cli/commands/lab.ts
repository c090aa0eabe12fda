// `provision lab up|down|status|reset`: runs src/lab and turns its events into progress lines.
import path from 'node:path';
import { labDown, labReset, labStatus, labUp, type LabEvent, type LabFleet } from '../../lab/index.js';
import { processIo, type Io } from '../io.js';

export type LabSub = 'up' | 'down' | 'status' | 'reset';

export interface LabCommandOptions {
  json: boolean;
  installDeps: boolean;
  /** the host for `reset` */
  host?: string;
  /** `down --wipe`: also delete every host's disk and keys (the next `up` boots fresh machines) */
  wipe?: boolean;
}

/** One plain-text line per event worth telling a person about (undefined: say nothing). */
export function describeLabEvent(e: LabEvent): string | undefined {
  switch (e.type) {
    case 'lab.deps.installing':
      return `installing Debian packages: ${e.packages.join(' ')}`;
    case 'lab.key.created':
      return `created the lab key pair ${e.path}`;
    case 'lab.identity.created':
      return `created the lab age identity ${e.path} (decrypts this machine's lab secrets; never in git)`;
    case 'lab.secrets.generated':
      return `secrets: generated random ${e.vars.join(', ')} into ${e.file} (encrypted to the lab identity)`;
    case 'lab.base.cached':
      return `base ${path.basename(e.dir)}: cached (${e.dir})`;
    case 'lab.base.building':
      return `base ${path.basename(e.dir)}: building with debootstrap from ${e.mirror} (about a minute, once; log ${e.log})`;
    case 'lab.vmbase.building':
      return `base ${path.basename(e.dir)}: building, for VMs: ${path.basename(e.base)} + ${e.packages.join(' ')} (about a minute, once)`;
    case 'lab.base.built':
      return `base ${path.basename(e.dir)}: built in ${e.seconds} s`;
    case 'lab.aptcache.started':
      return `apt cache: apt-cacher-ng on ${e.url} (pid ${e.pid})`;
    case 'lab.network.ready':
      return `network: bridge ${e.bridge}, gateway ${e.gateway}; hosts may reach only ${e.mirrors.join(', ') || 'nothing'}`;
    case 'lab.knownhosts.updated':
      return `known_hosts: recorded host keys of ${e.hosts.join(', ')} in ${e.path}`;
    case 'lab.host.prepared':
      return e.fresh ? `${e.host}: new disk, new SSH host key` : undefined;
    case 'lab.host.running':
      return `${e.host}: already running`;
    case 'lab.host.booting':
      return `${e.host}: booting (pid ${e.pid}, console ${e.log})`;
    case 'lab.host.booted':
      return `${e.host}: up, SSH login works (${e.seconds} s)`;
    case 'lab.host.stopping':
      return `${e.host}: powering off`;
    case 'lab.host.stopped':
      return `${e.host}: stopped${e.forced ? ' (killed after the shutdown timeout)' : ''}`;
    case 'lab.host.wiped':
      return `${e.host}: disk wiped`;
    case 'lab.aptcache.stopped':
      return `apt cache: stopped (pid ${e.pid})`;
    case 'lab.network.removed':
      return `network: bridge ${e.bridge} and its nftables table removed`;
    case 'lab.ipforward.restored':
      return `network: net.ipv4.ip_forward restored to ${e.value}`;
    case 'lab.warning':
      return `warning: ${e.message}`;
  }
}

export async function labCommand(sub: LabSub, fleet: LabFleet, opts: LabCommandOptions, io: Io = processIo()): Promise<number> {
  const emit = (e: LabEvent) => {
    const line = describeLabEvent(e);
    if (line) io.out(`lab ${fleet.inventoryName}: ${line}`);
  };
  try {
    switch (sub) {
      case 'up': {
        const r = await labUp(fleet, { installDeps: opts.installDeps }, emit);
        io.out(`lab ${fleet.inventoryName}: ${fleet.hosts.length} hosts up (${r.booted.length} booted, ${r.alreadyRunning.length} already running) in ${r.seconds} s`);
        return 0;
      }
      case 'down':
        await labDown(fleet, emit, { wipe: opts.wipe === true });
        io.out(`lab ${fleet.inventoryName}: down (${opts.wipe ? 'host disks and keys wiped' : 'host disks kept for the next up'})`);
        return 0;
      case 'reset': {
        if (!opts.host) throw new Error('lab reset needs a host name');
        const r = await labReset(fleet, opts.host, emit);
        io.out(`lab ${fleet.inventoryName}: ${opts.host} reset: fresh disk and host key ${r.hostKey.trim().split(/\s+/)[0]} ${r.fingerprint}`);
        io.out(`lab ${fleet.inventoryName}: known_hosts still holds the lost machine's key; rebuild with: provision rebuild ${fleet.inventoryDir ?? fleet.inventoryName} ${opts.host} --fingerprint ${r.fingerprint}`);
        return 0;
      }
      case 'status': {
        const hosts = await labStatus(fleet);
        if (opts.json) io.out(JSON.stringify({ inventory: fleet.inventoryName, bridge: fleet.bridge, network: fleet.network, hosts }, null, 2));
        else {
          const w = Math.max(4, ...hosts.map((h) => h.name.length));
          io.out(`${'HOST'.padEnd(w)}  ${'ADDRESS'.padEnd(15)}  RUNNING  SSH`);
          for (const h of hosts) io.out(`${h.name.padEnd(w)}  ${h.address.padEnd(15)}  ${(h.running ? 'yes' : 'no').padEnd(7)}  ${h.ssh ? 'yes' : 'no'}`);
        }
        // exit 0 only when the whole fleet is usable, so scripts can wait on it
        return hosts.every((h) => h.running && h.ssh) ? 0 : 1;
      }
    }
  } catch (err) {
    io.err(io.style('red', `error: ${(err as Error).message}`));
    return 1;
  }
}
