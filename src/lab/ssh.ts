// "Up" means an SSH login works, checked the strict way: the lab key, BatchMode, and only the host
// key recorded in the inventory's known_hosts (no trust-on-first-use, no user ssh config).
import { readFile } from 'node:fs/promises';
import { run, sleep } from './exec.js';
import type { LabFleet } from './types.js';

export function sshArgs(fleet: LabFleet, address: string, command: string, connectTimeoutS = 2): string[] {
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
    `root@${address}`,
    command,
  ];
}

export async function sshRun(fleet: LabFleet, address: string, command: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await run('ssh', sshArgs(fleet, address, command), { timeoutMs: 15_000 });
  return { ok: r.code === 0, stdout: r.stdout, stderr: r.stderr };
}

export async function sshLoginWorks(fleet: LabFleet, address: string): Promise<boolean> {
  return (await sshRun(fleet, address, 'true')).ok;
}

/**
 * Polls until a login works. Stops early if the host's process died (`alive` false), with the end
 * of its console log in the error.
 */
export async function waitForSsh(fleet: LabFleet, host: { name: string; address: string }, timeoutMs: number, alive: () => Promise<boolean>, consoleLog: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await sshRun(fleet, host.address, 'true');
    if (r.ok) return;
    last = r.stderr.trim().split('\n').pop() ?? '';
    if (!(await alive())) {
      const tail = (await readFile(consoleLog, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n    ');
      throw new Error(`host ${host.name}: its container exited during boot; end of ${consoleLog}:\n    ${tail}`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`host ${host.name} (${host.address}): no SSH login within ${Math.round(timeoutMs / 1000)} s; last ssh error: ${last || '(none)'}; console: ${consoleLog}`);
    }
    await sleep(250);
  }
}
