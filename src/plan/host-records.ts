// What provision keeps about its own runs on each host, under /var/lib/provision, so that an
// interrupted run heals on the next one and two runs never work on one host together:
//   pending/<hex name>   handlers notified by an applied change and not yet run ("RUNID EPOCH" lines)
//   guard/<run>/         a guarded change's backup and its armed restore (restore.sh)
//   lock                 the run working on the host: "RUNID OWNER SINCE EXPIRES" (host epoch seconds)
//   generation           bumped by every apply that takes the lock: a run that probed before refuses
//   last-run             the record of the last apply (JSON)
// and /run/provision/ holds the output of running apply execs (src/apply/scripts.ts).
// The probe reads all of it in the same single exec (recordsProbe); the executor writes it
// (src/apply/scripts.ts). Times are judged by the host's own clock, in the same exec that reads them.
import { STATE_DIR } from '../resources/common.js';

export const PENDING_DIR = `${STATE_DIR}/pending`;
export const GUARD_DIR = `${STATE_DIR}/guard`;
export const LOCK_FILE = `${STATE_DIR}/lock`;
export const MUTEX_FILE = `${STATE_DIR}/.mutex`;
export const GENERATION_FILE = `${STATE_DIR}/generation`;
export const RECORD_FILE = `${STATE_DIR}/last-run`;
/**
 * Where an apply exec keeps its output until it ends (a dead controller cannot break its pipe).
 * Each exec removes its own file; on tmpfs, the file of an exec cut by a power loss goes at boot.
 */
export const RUN_OUT_DIR = '/run/provision';

/** a lock not renewed for this long is dead; holders renew every LEASE/4 */
export const LEASE_SECONDS = 60;

export interface PendingHandler {
  name: string;
  /** the run whose change notified it, and when (the earliest, if several did) */
  runId: string;
  at: string;
}

export interface HostLock {
  runId: string;
  /** user@controller */
  owner: string;
  since: string;
  expires: string;
  /** the lease ran out by the host's clock when it was probed */
  expired: boolean;
}

export interface ArmedRestore {
  runId: string;
  at: string;
}

/** What an apply leaves on the host about itself. */
export interface RunRecord {
  runId: string;
  at: string;
  /** user@controller */
  by: string;
  /** the inventory's repository commit, when it is in git ("+dirty" when it has local changes) */
  commit?: string;
  playbook: string;
  roles: string[];
  /** the plan's fingerprint of the probed state it applied */
  fingerprint: string;
  /** "applied" (every step succeeded, verified in the same exec) or "failed: …" */
  result: string;
  changes: number;
}

export interface HostRecords {
  generation: number;
  lock?: HostLock;
  pending: PendingHandler[];
  armed: ArmedRestore[];
  lastRun?: RunRecord;
}

/** Handler names become file names as hex: any name, no path tricks. */
export const handlerFile = (name: string): string => `${PENDING_DIR}/${Buffer.from(name, 'utf8').toString('hex')}`;

/** Read-only sh for the probe's `records` section: one tagged line per fact, no fork per pending file. */
export function recordsProbe(): string {
  return [
    `printf 'now %s\\n' "$(date +%s)"`,
    `[ -r ${GENERATION_FILE} ] && read -r g < ${GENERATION_FILE} && printf 'gen %s\\n' "$g"`,
    `[ -r ${LOCK_FILE} ] && read -r l < ${LOCK_FILE} && printf 'lock %s\\n' "$l"`,
    `for f in ${PENDING_DIR}/*; do [ -f "$f" ] || continue; while read -r r t; do printf 'pending %s %s %s\\n' "\${f##*/}" "$r" "$t"; done < "$f"; done`,
    `for f in ${GUARD_DIR}/*/restore.sh; do [ -f "$f" ] || continue; d=\${f%/restore.sh}; printf 'armed %s %s\\n' "\${d##*/}" "$(stat -c %Y "$f")"; done`,
    `[ -r ${RECORD_FILE} ] && printf 'last %s\\n' "$(base64 -w0 < ${RECORD_FILE})"`,
    ':',
  ].join('\n');
}

const iso = (epoch: string | undefined): string => {
  const n = Number(epoch);
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString().replace('.000Z', 'Z') : '?';
};

export function parseRecords(text: string): HostRecords {
  const out: HostRecords = { generation: 0, pending: [], armed: [] };
  let now = 0;
  let lock: string[] | undefined;
  const pending = new Map<string, { runId: string; epoch: number }>();
  for (const line of text.split('\n')) {
    const [tag, ...w] = line.trim().split(/\s+/);
    if (tag === 'now') now = Number(w[0]);
    else if (tag === 'gen') out.generation = Number(w[0]) || 0;
    else if (tag === 'lock' && w.length >= 4) lock = w;
    else if (tag === 'pending' && w.length >= 3 && /^([0-9a-f]{2})+$/.test(w[0]!)) {
      const name = Buffer.from(w[0]!, 'hex').toString('utf8');
      const epoch = Number(w[2]);
      const prior = pending.get(name);
      if (!prior || epoch < prior.epoch) pending.set(name, { runId: w[1]!, epoch });
    } else if (tag === 'armed' && w.length >= 2) out.armed.push({ runId: w[0]!, at: iso(w[1]) });
    else if (tag === 'last' && w[0]) {
      try {
        out.lastRun = JSON.parse(Buffer.from(w[0], 'base64').toString('utf8')) as RunRecord;
      } catch {
        // a record that does not parse is shown as absent, never trusted
      }
    }
  }
  if (lock) {
    const [runId, owner, since, expires] = lock as [string, string, string, string];
    out.lock = { runId, owner, since: iso(since), expires: iso(expires), expired: now > Number(expires) };
  }
  out.pending = [...pending].map(([name, p]) => ({ name, runId: p.runId, at: iso(String(p.epoch)) }));
  return out;
}
