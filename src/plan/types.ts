// Plain data shared by planner, executor and views. A Plan is serialisable (plan files, --json).
import type { Change } from '../resources/types.js';
import type { Facts } from '../facts/types.js';
import type { HostRecords } from './host-records.js';

export interface SkippedResource {
  id: string;
  reason: string;
}

/** A handler the host's changes will trigger (restart, reload…), as apply will run it. */
export interface PlannedHandler {
  /** handler name as the role defines it, e.g. "restart drand" */
  name: string;
  /** the role that defines it */
  role: string;
  /** human text: "service drand will restart", "service ssh reloads …" */
  effect: string;
  /** the unit that restarts, when the handler restarts one — counted in "N service restart(s)" */
  restarts?: string;
  /** change ids that notify it, in plan order */
  notifiedBy: string[];
  /** left pending by an interrupted run (fault tolerance) */
  pendingSince?: { runId: string; at: string };
}

export interface HostPlan {
  host: string;
  /** the plan could not be made for this host (unreachable, host key, probe failed, undersized) */
  error?: string;
  changes: Change[];
  /** handlers the changes trigger, in the order apply will run them */
  handlers: PlannedHandler[];
  skipped: SkippedResource[];
  warnings: string[];
  /** health checks that failed in the probe (informational when changes are pending) */
  unhealthy: string[];
  /** sha256 over the probed state of every resource: a saved plan is refused when it moved */
  fingerprint: string;
  facts?: Facts;
  execs: number;
  /** provision's own records on the host: lock, armed restores, generation, last run */
  records?: HostRecords;
  /** changes that wait for a value another host publishes: shown "(known after apply)", applied in a later round */
  deferred?: { id: string; waitsFor: string[] }[];
}

export interface Plan {
  version: 1;
  inventory: string;
  playbook: string;
  /** sha256 of the desired state of every host (resources, handlers): a saved plan is refused when it moved */
  desired: Record<string, string>;
  hosts: HostPlan[];
  createdAt: string;
}

/** Something to do on the host: changes, or handlers to run (an interrupted run may have left some pending). */
export const hostHasWork = (h: HostPlan): boolean => h.changes.length > 0 || (h.handlers?.length ?? 0) > 0;
export const hasChanges = (p: Plan): boolean => p.hosts.some(hostHasWork);
