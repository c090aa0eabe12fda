import type { Release } from '../facts/release.js';
// The lab's public shapes: what a fleet is, what the lab reports while it works, and what status returns.

export interface LabHostRef {
  name: string;
  address: string;
  /** address of the host this one is reached through: once hardened, nodes accept SSH only from their bastion */
  jump?: string;
  /**
   * the inventory's login user; not root: the lab makes it a sudo user (key login, passwordless
   * sudo through /etc/sudoers.d/90-provision-lab), as a cloud image's first-boot setup does
   */
  user?: string;
  /** the release the host boots (the inventory's spec.os; default debian-12) */
  os?: Release;
}

export type LabMachine = 'container' | 'vm';

export interface LabFleet {
  /** inventory name (e.g. "lab"): host state lives under /var/lib/provision/lab/hosts/<inventoryName>/ */
  inventoryName: string;
  /** Linux bridge the lab creates, <= 15 chars of [a-z0-9_-] */
  bridge: string;
  /** private IPv4 network in CIDR, e.g. 10.213.7.0/24; the gateway (this machine) is its first address */
  network: string;
  /** absolute path of the inventory's known_hosts file */
  knownHosts: string;
  /** absolute path of the controller's private key; the public key is keyPath + '.pub' */
  keyPath: string;
  hosts: LabHostRef[];
  /**
   * what the hosts are: systemd-nspawn containers (the default: they boot in a second) or QEMU
   * virtual machines with their own kernel and file systems (src/lab/vm.ts)
   */
  machine?: LabMachine;
  /**
   * Debian packages baked into the VM base (machine: vm), as a provider's image ships them: an
   * emulated VM installs packages slowly, and what a test is about may not be their installation
   */
  vmPackages?: string[];
  /** the inventory directory: `lab up` (re)generates its lab secrets (src/lab/secrets.ts) */
  inventoryDir?: string;
}

export interface LabUpOptions {
  /** apt-get install missing Debian packages (also implied by CI=true) */
  installDeps: boolean;
  /** how long each host may take to accept SSH after boot (default 120 s) */
  sshTimeoutMs?: number;
}

export interface LabHostStatus {
  name: string;
  address: string;
  running: boolean;
  ssh: boolean;
}

export interface LabUpResult {
  booted: string[];
  alreadyRunning: string[];
  /** wall time of the whole `up`, seconds */
  seconds: number;
}

export type LabEvent =
  | { type: 'lab.deps.installing'; packages: string[] }
  | { type: 'lab.key.created'; path: string }
  | { type: 'lab.identity.created'; path: string }
  | { type: 'lab.secrets.generated'; file: string; vars: string[] }
  | { type: 'lab.base.cached'; dir: string }
  | { type: 'lab.base.building'; dir: string; mirror: string; log: string }
  | { type: 'lab.vmbase.building'; dir: string; base: string; packages: string[] }
  | { type: 'lab.base.built'; dir: string; seconds: number }
  | { type: 'lab.network.ready'; bridge: string; gateway: string; mirrors: string[] }
  | { type: 'lab.aptcache.started'; url: string; pid: number }
  | { type: 'lab.aptcache.stopped'; pid: number }
  | { type: 'lab.knownhosts.updated'; path: string; hosts: string[] }
  | { type: 'lab.host.prepared'; host: string; fresh: boolean }
  | { type: 'lab.host.running'; host: string }
  | { type: 'lab.host.booting'; host: string; pid: number; log: string }
  | { type: 'lab.host.booted'; host: string; seconds: number }
  | { type: 'lab.host.stopping'; host: string }
  | { type: 'lab.host.stopped'; host: string; forced: boolean }
  | { type: 'lab.host.wiped'; host: string }
  | { type: 'lab.network.removed'; bridge: string }
  | { type: 'lab.ipforward.restored'; value: string }
  | { type: 'lab.warning'; message: string };

export type LabEmit = (e: LabEvent) => void;
