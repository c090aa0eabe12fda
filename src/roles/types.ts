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
  /** render roles/<role>/templates/<name>.hbs in strict mode */
  template(name: string, data: object): string;
  /** read a file shipped with the role or the repo (path relative to the repo root) */
  repoPath(relative: string): string;
  /** the login user of the controller on this host (the lockout guard keeps it working) */
  loginUser: string;
  /** addresses the controller connects from, as seen by this host (for the bastion allowlist) */
  controllerAddresses: string[];
  /**
   * the release the host runs, e.g. 'debian-13' (docs/releases.md): its `spec.os` pin (a lab host
   * without one: the lab's default). The planner fails a host that runs another release. A host
   * without a pin is compiled for every release its roles support; if that gives different
   * results, `check` asks for a pin.
   */
  release: Release;
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
  openings?(ctx: Omit<RoleContext<Static<S>>, 'openings' | 'template'>): Opening[];
  resources(ctx: RoleContext<Static<S>>): Resource[];
  /**
   * handler name → what it runs and what it does (e.g. r.restartHandler('drand')); each notified
   * handler runs once per host after the play's changes, in the order defined here; the plan lists them
   */
  handlers?(ctx: RoleContext<Static<S>>): Record<string, Handler>;
  health?(ctx: RoleContext<Static<S>>): HealthCheck[];
}

export function defineRole<S extends TObject>(def: RoleDefinition<S>): RoleDefinition<S> {
  return def;
}

export type { Facts };
