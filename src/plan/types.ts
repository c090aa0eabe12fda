// Plain data shared by planner, executor and views. A Plan is serialisable (plan files, --json).
import type { Change } from '../resources/types.js';
import type { Facts } from '../facts/types.js';
import type { HostRecords, PendingHandler } from './host-records.js';

export interface SkippedResource {
  id: string;
  reason: string;
}

export interface HostPlan {
  host: string;
  /** the plan could not be made for this host (unreachable, host key, probe failed, undersized) */
  error?: string;
  changes: Change[];
  skipped: SkippedResource[];
  warnings: string[];
  /** health checks that failed in the probe (informational when changes are pending) */
  unhealthy: string[];
  /** sha256 over the probed state of every resource: a saved plan is refused when it moved */
  fingerprint: string;
  facts?: Facts;
  execs: number;
  /** handlers an interrupted run left pending (recorded on the host): the next apply runs them */
  pendingHandlers: PendingHandler[];
  /** provision's own records on the host: lock, armed restores, generation, last run */
  records?: HostRecords;
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

/** Something to do on the host: changes, or handlers an interrupted run left pending. */
export const hostHasWork = (h: HostPlan): boolean => h.changes.length > 0 || (h.pendingHandlers?.length ?? 0) > 0;
export const hasChanges = (p: Plan): boolean => p.hosts.some(hostHasWork);
