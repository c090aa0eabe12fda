import type { Release } from '../facts/release.js';
// The resolved inventory: what src/inventory/load.ts produces from inventory/<env>/.
export interface HostSpec {
  cpus?: number;
  memoryGiB?: number;
  diskGiB?: number;
  bandwidthMbps?: number;
  provider?: string; // baremetal | aws | gcp | hetzner | lab | ...
  /** the release the host must run, e.g. "debian-13" (src/facts/release.ts); its plan fails on another */
  os?: Release;
}

export interface Host {
  name: string;
  address: string;
  port: number;
  user: string;
  /** absolute path of the private key file, or undefined to use ssh-agent only */
  key?: string;
  /** name of the inventory host to jump through (ProxyJump), if any */
  jump?: string;
  /** 'enforce' (default): an undersized host fails in plan; 'warn': the plan warns instead */
  sizing: 'enforce' | 'warn';
  spec: HostSpec;
  /** every group the host is in, including parents through `children`, sorted */
  groups: string[];
  /** merged vars (see README "Variable precedence"), keyed by role name */
  vars: Record<string, unknown>;
  /** the vars files merged into `vars`, lowest precedence first: errors point back at the file and line */
  varSources: VarSource[];
}

export interface VarSource {
  file: string;
  data: Record<string, unknown>;
  lineOf(at: (string | number)[]): number | undefined;
  /** decrypted from secrets/<scope>.age (only there may a role's secret vars be set) */
  secret?: boolean;
}

export interface Group {
  name: string;
  hosts: string[]; // direct members
  children: string[];
}

export interface LabSettings {
  /** Linux bridge the lab creates, e.g. "prvlab0" */
  bridge: string;
  /** private IPv4 network of the bridge in CIDR, e.g. "10.213.7.0/24"; the gateway is its first address */
  network: string;
  /** what the lab boots the hosts as (default container; vm: own kernel and file systems) */
  machine?: 'container' | 'vm';
  /** Debian packages baked into the VM base (machine: vm), as a provider's image ships them */
  vm_packages?: string[];
  /** let this lab inventory give secret vars in plain YAML (never for a real fleet) */
  allow_plaintext_secrets_for_lab_only?: boolean;
}

export interface Inventory {
  /** absolute path of the inventory directory */
  dir: string;
  name: string; // basename, e.g. "lab"
  hosts: Map<string, Host>;
  groups: Map<string, Group>;
  /** absolute path of the known_hosts file that host keys are checked against */
  knownHosts: string;
  lab?: LabSettings;
}
