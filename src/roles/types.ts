// The shape of a typed role. A role file is `roles/<name>/role.ts` and its default export is
// `defineRole({...})`. The vars schema (TypeBox, i.e. JSON Schema) is the single source of truth:
// ajv validates inventory values against it before any connection, and `Static<>` gives the type.
import type { TObject, Static } from '@sinclair/typebox';
import type { Handler, Resource } from '../resources/types.js';
import type { Facts } from '../facts/types.js';
import type { Release } from '../facts/release.js';

/** A host as a role sees it: no connection secrets, only what placement and templates need. */
export interface HostView {
  name: string;
  address: string;
  groups: string[];
  roles: string[];
  provider: string;
  /** the inventory host this one is reached through (its bastion), if any */
  jump?: string;
}

/** A firewall opening a role asks for; the base role turns all openings of a host into nftables rules. */
export interface Opening {
  port: number;
  proto: 'tcp' | 'udp';
  /** source addresses/CIDRs; 'any' means the public internet (refused on node roles by placement) */
  from: string[] | 'any';
  comment: string;
}

export interface RoleContext<V> {
  host: HostView;
  vars: V;
  /** every host of the inventory (for peers: "the other drand nodes of my group") */
  inventory: { hosts: HostView[]; group(name: string): HostView[] };
  /** the openings every role on this host declared (the base role renders them) */
  openings: Opening[];
  /** the state every role on this host declared (the snapshot role backs it up, `provision rebuild` restores it) */
  state: HostState[];
  /** render roles/<role>/templates/<name>.hbs in strict mode */
  template(name: string, data: object): string;
  /** read a file shipped with the role or the repo (path relative to the repo root) */
  repoPath(relative: string): string;
  /** the login user of the controller on this host (the lockout guard keeps it working) */
  loginUser: string;
  /** the system accounts (users and groups) every role of the playbook declares (RoleDefinition.accounts) */
  systemAccounts: string[];
  /** addresses the controller connects from, as seen by this host (for the bastion allowlist) */
  controllerAddresses: string[];
  /**
   * the release the host runs, e.g. 'debian-13' (docs/releases.md): its `spec.os` pin (a lab host
   * without one: the lab's default). The planner fails a host that runs another release. A host
   * without a pin is compiled for every release its roles support; if that gives different
   * results, `check` asks for a pin.
   */
  release: Release;
  /**
   * a value that `role` publishes from `host` (this host too): what the host's probe read, or — on
   * a host where it does not exist yet — a placeholder; resources holding one plan as
   * "(known after apply)" and are applied once the generating host has it, in the same apply
   */
  hostValue(host: string | HostView, role: string, name: string): string;
  /** the vars `role` is given on another host (inventory + playbook, validated by that role's schema) */
  varsOf(host: string | HostView, role: string): Record<string, unknown>;
  /** a fact this role declares (RoleDefinition.facts), parsed from this host's probe; undefined offline (`check`) */
  fact<T = unknown>(name: string): T | undefined;
}

/** A value a role publishes from its host for other hosts' roles (ctx.hostValue). */
export interface PublishedValue {
  description: string;
  /**
   * read-only POSIX sh run in the host's single probe; the value is its trimmed stdout when it exits
   * 0 and prints something (otherwise: not there yet). Print only what may leave the host — a
   * public key, never the private one.
   */
  probe: string;
  /** ids of this role's resources that make the value (they run before any reader): cycles through them are errors at `check` */
  madeBy?: string[];
}

/** A fact a role needs about its host: a read-only sh probe (part of the single probe) and its parser. */
export interface RoleFact<T = unknown> {
  description: string;
  probe: string;
  parse(stdout: string, status: number): T;
}

/** A check of the host's facts, like sizing: `enforce` fails the host's plan, `warn` warns. */
export interface RoleCheck {
  name: string;
  mode: 'enforce' | 'warn';
  /** null: the host passes; otherwise what is wrong */
  problem: string | null;
  /** the check cannot apply to this host (e.g. in a container): shown with its reason */
  skipped?: string;
}

export interface Sizing {
  /** minimum CPU cores */
  cpus?: number;
  memoryGiB?: number;
  /** minimum size of the filesystem holding `diskPath` */
  diskGiB?: number;
  diskPath?: string;
  bandwidthMbps?: number;
  arch?: string[];
  /** where the numbers come from (seed guide, vendor doc) — shown when a host is undersized */
  source: string;
}

export interface Placement {
  /** roles that must not be on the same machine (checked on inventory names and on machine-ids) */
  notWith?: string[];
  /** this role's hosts must not be reachable from the public internet (no 'any' openings) */
  private?: boolean;
}

export interface HealthCheck {
  name: string;
  /** POSIX sh run on the host after apply; exit 0 = healthy. Retried until `timeoutSeconds`. */
  script: string;
  timeoutSeconds?: number;
}

/**
 * What of a host must survive the loss of the machine, as a role declares it: the paths a snapshot
 * holds and how they are made consistent while it is taken (docs/disaster-recovery.md).
 */
export interface RoleState {
  /** absolute paths (directories or files) saved as they are; a missing one is skipped and logged */
  paths: string[];
  /**
   * How the paths are consistent while the snapshot reads them:
   *  - `stop`: these services are stopped for the snapshot and started again after it;
   *  - `dump`: the application's own consistent copy: `command` (sh, root) writes it to stdout, it is
   *    saved at `file` (part of the snapshot); after a restore, `restore` (sh, the dump on stdin) loads it;
   *  - `none`: the files are always consistent on disk (`why` says why, e.g. written by rename).
   */
  consistency: { stop: string[] } | { dump: { command: string; file: string; restore: string } } | { none: string };
  /** services held stopped while `provision rebuild` restores the state, started after it */
  services: string[];
}

/** A role's state declaration, with the role it came from. */
export interface HostState extends RoleState {
  role: string;
}

export interface RoleDefinition<S extends TObject = TObject> {
  name: string;
  description: string;
  vars: S;
  /**
   * the releases the role supports (default: all of SUPPORTED_RELEASES, src/facts/release.ts);
   * a host on another release fails at plan time, naming both
   */
  releases?: readonly Release[];
  sizing?: Sizing;
  placement?: Placement;
  /** the system users and groups this role makes (the bastion refuses them as operator names) */
  accounts?: string[];
  openings?(ctx: Omit<RoleContext<Static<S>>, 'openings' | 'template'>): Opening[];
  resources(ctx: RoleContext<Static<S>>): Resource[];
  /**
   * handler name → what it runs and what it does (e.g. r.restartHandler('drand')); each notified
   * handler runs once per host after the play's changes, in the order defined here; the plan lists them
   */
  handlers?(ctx: RoleContext<Static<S>>): Record<string, Handler>;
  health?(ctx: RoleContext<Static<S>>): HealthCheck[];
  /** values this role publishes from its host (name → probe); other roles read them with ctx.hostValue */
  publishes?: Record<string, PublishedValue>;
  /** facts this role needs on its host (name → probe + parser; the probe may use the vars), read with ctx.fact(name) */
  facts?(ctx: { host: HostView; vars: Static<S> }): Record<string, RoleFact>;
  /** checks of the host's facts, evaluated at plan time (after the probe) */
  checks?(ctx: RoleContext<Static<S>>): RoleCheck[];
  /**
   * the state of the host this role keeps (keys, a database, operators' TOTP secrets): what must
   * survive the loss of the machine; null or absent: the role keeps nothing a rebuild cannot recreate
   */
  state?(ctx: Omit<RoleContext<Static<S>>, 'openings' | 'template' | 'state'>): RoleState | null;
}

export function defineRole<S extends TObject>(def: RoleDefinition<S>): RoleDefinition<S> {
  return def;
}

export type { Facts };
