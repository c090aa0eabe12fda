// The engine reports what it does through these events; only src/cli renders them.
import type { Change } from '../resources/types.js';
import type { PlannedHandler } from '../plan/types.js';

export type HostStatus = 'unchanged' | 'changed' | 'failed' | 'unreachable' | 'not-run';

export interface HostResult {
  host: string;
  status: HostStatus;
  /** changes that were applied (apply) or are pending (plan) */
  changes: Change[];
  /** handlers that ran (apply) or will run (plan), in order */
  handlers: PlannedHandler[];
  error?: string;
  /** for "did not converge": what still differs after apply */
  unconverged?: Change[];
  warnings: string[];
  durationMs: number;
  /** remote execs on this host after connecting (probe, apply steps, handlers, verification) */
  execs: number;
}

export type EngineEvent =
  | { type: 'host.probing'; host: string }
  | { type: 'host.planned'; host: string; changes: number; error?: string }
  | { type: 'play.batch'; play: string; batch: number; batches: number; hosts: string[] }
  | { type: 'change.applying'; host: string; change: Change }
  | { type: 'change.applied'; host: string; change: Change }
  | { type: 'guard.login'; host: string; change: string; ok: boolean }
  /** the host's lock was held by a run whose lease had expired by the host's clock: taken over */
  | { type: 'lock.takenover'; host: string; runId: string; owner: string; expired: string }
  | { type: 'handler.ran'; host: string; handler: string }
  | { type: 'host.verifying'; host: string }
  | { type: 'host.done'; result: HostResult }
  | { type: 'budget.exceeded'; play: string; failed: number; total: number; maxFailPercentage: number };

export type Emit = (e: EngineEvent) => void;
