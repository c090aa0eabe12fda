// "Up" means an SSH login works, checked the strict way: the lab key, BatchMode, and only the host
// key recorded in the inventory's known_hosts (no trust-on-first-use, no user ssh config).
import { readFile } from 'node:fs/promises';
import { run, sleep } from './exec.js';
import { shArgs } from '../shell/quote.js';
import type { LabFleet, LabHostRef } from './types.js';

export function sshArgs(fleet: LabFleet, address: string | Pick<LabHostRef, 'address' | 'jump'>, command: string, connectTimeoutS = 2): string[] {
  const host = typeof address === 'string' ? { address } : address;
  return [...sshOptions(fleet, connectTimeoutS), ...viaJump(fleet, host.jump, connectTimeoutS), `root@${host.address}`, command];
}

function sshOptions(fleet: LabFleet, connectTimeoutS: number): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${fleet.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    '-i', fleet.keyPath,
  ];
}

/** A ProxyCommand with the same strict options (ssh -J would not pass our -o options on to the jump). */
function viaJump(fleet: LabFleet, jump: string | undefined, connectTimeoutS: number): string[] {
  if (!jump) return [];
  // ProxyCommand goes through /bin/sh: quote every word.
  return ['-o', `ProxyCommand=${shArgs(['ssh', ...sshOptions(fleet, connectTimeoutS), '-W', '%h:%p', `root@${jump}`])}`];
}

export async function sshRun(fleet: LabFleet, host: Pick<LabHostRef, 'address' | 'jump'>, command: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  // An emulated VM behind an emulated bastion takes seconds to send its banner; a container, none.
  const connectS = fleet.machine === 'vm' ? 30 : 2;
  const r = await run('ssh', sshArgs(fleet, host, command, connectS), { timeoutMs: (connectS * 2 + 11) * 1000 });
  return { ok: r.code === 0, stdout: r.stdout, stderr: r.stderr };
}

export async function sshLoginWorks(fleet: LabFleet, host: Pick<LabHostRef, 'address' | 'jump'>): Promise<boolean> {
  return (await sshRun(fleet, host, 'true')).ok;
}

/**
 * Polls until a login works. Stops early if the host's process died (`alive` false), with the end
 * of its console log in the error.
 */
export async function waitForSsh(fleet: LabFleet, host: LabHostRef, timeoutMs: number, alive: () => Promise<boolean>, consoleLog: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await sshRun(fleet, host, 'true');
    if (r.ok) return;
    last = r.stderr.trim().split('\n').pop() ?? '';
    if (!(await alive())) {
      const tail = (await readFile(consoleLog, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n    ');
      throw new Error(`host ${host.name}: its machine exited during boot; end of ${consoleLog}:\n    ${tail}`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`host ${host.name} (${host.address}): no SSH login within ${Math.round(timeoutMs / 1000)} s; last ssh error: ${last || '(none)'}; console: ${consoleLog}`);
    }
    await sleep(250);
  }
}
