// Host facts: gathered in the same single exec as the resource probes (see src/facts/probe.ts).
// Only what a rule or a role reads (sizing, placement, containers): each fact costs a process or
// two on every host in every run.
export interface DiskFact {
  /** the path the role asked about */
  path: string;
  /** the mount point that holds it */
  mount: string;
  sizeGiB: number;
  availGiB: number;
}

export interface Facts {
  /** from /etc/os-release: ID, VERSION_ID, VERSION_CODENAME, PRETTY_NAME (see release.ts) */
  os: { id: string; versionId: string; codename: string; prettyName: string };
  /** "<ID>-<VERSION_ID>", e.g. "debian-13" (src/facts/release.ts): roles choose packages and configuration from it */
  release: string;
  arch: string; // uname -m, e.g. x86_64
  cpus: number;
  memoryGiB: number;
  /** disk per path asked for by the roles' sizing */
  disks: DiskFact[];
  /** as systemd-detect-virt --container says: "none" on a VM or bare metal, else e.g. "systemd-nspawn" */
  container: string;
  machineId: string;
  hostname: string;
}

export const isContainer = (f: Facts): boolean => f.container !== 'none' && f.container !== '';
