// `lab status`: per host, is its container running, and does a strict SSH login work.
import { runningPid } from './host.js';
import { sshLoginWorks } from './ssh.js';
import type { LabFleet, LabHostStatus } from './types.js';

export async function labStatus(fleet: LabFleet): Promise<LabHostStatus[]> {
  return Promise.all(
    fleet.hosts.map(async (h) => {
      const running = !!(await runningPid(fleet, h.name));
      const ssh = running && (await sshLoginWorks(fleet, h));
      return { name: h.name, address: h.address, running, ssh };
    }),
  );
}
