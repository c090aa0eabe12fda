// `provision rebuild HOST` and `provision snapshot PATTERN`: the disaster-recovery sequence over
// the engine's own run(), with the snapshot roles' scripts on the hosts doing the restic work.
// Order (docs/disaster-recovery.md): find the snapshot on the snapshot server (none: stop before
// any change) → log in to the new machine (its host key only with the fingerprint given out of
// band) → converge with the stateful services held stopped → restore (restic --verify: every
// restored file read back against the snapshot) → start the services → health checks pass → a
// plan of the host is empty.
import type { Compiled, CompiledHost } from '../plan/compile.js';
import * as r from '../resources/index.js';
import { sh } from '../shell/quote.js';
import { run, type Connector, type RunOptions } from './run.js';
import { CLIENT_ROLE, SERVER_ROLE } from '../roles/snapshots.js';

export interface SnapshotInfo {
  id: string;
  short_id: string;
  time: string;
  paths: string[];
}

export interface RebuildTarget {
  host: string;
  server: string;
  /** held stopped while converging and restoring */
  services: string[];
  paths: string[];
}

export const SNAPSHOT_CMD = '/usr/local/sbin/provision-snapshot';
const SERVER_CMD = '/usr/local/sbin/provision-snapshot-server';

/** Offline: the host's snapshot server and what its roles declare (errors before any connection). */
export function rebuildTarget(compiled: Compiled, host: string): RebuildTarget {
  const ch = compiled.hosts.get(host);
  if (!ch) throw new Error(`rebuild: ${host} is not a host of ${compiled.inventory.name} in this playbook`);
  if (!ch.roles.some((r) => r.role.name === CLIENT_ROLE)) throw new Error(`rebuild: ${host} has no role ${CLIENT_ROLE}: it has no snapshots to rebuild from`);
  const servers = [...compiled.hosts.values()].filter((h) => h.roles.some((r) => r.role.name === SERVER_ROLE));
  if (servers.length !== 1) throw new Error(`rebuild: expected one host with role ${SERVER_ROLE} in this playbook, found ${servers.length}`);
  return { host, server: servers[0]!.host.name, services: [...new Set(ch.state.flatMap((s) => s.services))], paths: [...new Set(ch.state.flatMap((s) => s.paths))] };
}

/** The host's snapshots as the server's restic lists them (newest last). */
export async function listSnapshots(transport: Connector, server: string, host: string): Promise<SnapshotInfo[]> {
  const conn = await transport.connect(server);
  const res = await conn.run(`runuser -u restic -- ${SERVER_CMD} list ${sh(host)}`);
  if (res.code !== 0) throw new Error(`listing the snapshots of ${host} on ${server} failed (exit ${res.code}): ${res.stderr.trim() || res.stdout.trim()}`);
  const out = res.stdout.trim();
  return out === '' ? [] : (JSON.parse(out) as SnapshotInfo[] | null) ?? [];
}

/** The snapshot to restore: the newest, or the one named (full or short id). */
export function pickSnapshot(list: SnapshotInfo[], host: string, server: string, wanted?: string): SnapshotInfo {
  if (!list.length) throw new Error(`no snapshot of ${host} on ${server}: nothing to rebuild from (nothing was changed)`);
  if (!wanted) return [...list].sort((a, b) => a.time.localeCompare(b.time)).at(-1)!;
  const hit = list.find((s) => s.id === wanted || s.short_id === wanted || (wanted.length >= 8 && s.id.startsWith(wanted)));
  if (!hit) throw new Error(`snapshot ${wanted} of ${host} is not on ${server} (it has ${list.map((s) => s.short_id).join(', ')}); nothing was changed`);
  return hit;
}

/** The host's desired state with its stateful services held stopped (no start, no restart, no health check yet). */
export function holdServices(ch: CompiledHost, services: string[]): CompiledHost {
  const held = new Set(services);
  const resources = ch.resources.map((res) => {
    const name = res.id.startsWith('service:') ? res.id.slice('service:'.length).replace(/\.service$/, '') : undefined;
    return name && held.has(name) ? r.service({ name, enabled: true, running: false }) : res;
  });
  const handlers = new Map(
    [...ch.handlers].map(([n, h]) =>
      h.restarts && held.has(h.restarts.replace(/\.service$/, '')) ? [n, { ...h, script: ':', effect: `${h.effect} — held stopped for the rebuild` }] : [n, h],
    ),
  );
  return { ...ch, resources, handlers, health: [] };
}

/** Only this host, in the plays that bring it roles. */
export function onlyHost(compiled: Compiled, host: string, ch: CompiledHost = compiled.hosts.get(host)!): Compiled {
  return { ...compiled, hosts: new Map([[host, ch]]), plays: compiled.plays.filter((p) => p.hosts.includes(host)).map((p) => ({ ...p, hosts: [host] })) };
}

export type RebuildStep = 'converge' | 'restore' | 'start' | 'health' | 'plan';

export interface RebuildResult {
  snapshot: SnapshotInfo;
  restored: string;
  seconds: number;
}

/** Steps 3–7 (after the snapshot was found and the host key accepted). Throws at the first failed step. */
export async function rebuildHost(
  compiled: Compiled,
  transport: Connector,
  target: RebuildTarget,
  snapshot: SnapshotInfo,
  opts: Omit<RunOptions, 'mode'>,
  step: (s: RebuildStep, detail: string) => void,
): Promise<RebuildResult> {
  const t0 = Date.now();
  const ch = compiled.hosts.get(target.host)!;
  step('converge', `roles ${ch.roles.map((r) => r.role.name).join(', ')}${target.services.length ? `, ${target.services.join(', ')} held stopped` : ''}`);
  const conv = await run(onlyHost(compiled, target.host, holdServices(ch, target.services)), transport, { ...opts, mode: 'apply' });
  const cr = conv.results[0]!;
  if (cr.status !== 'changed' && cr.status !== 'unchanged') throw new Error(`converge failed on ${target.host}: ${cr.error ?? cr.status}`);
  const conn = await transport.connect(target.host);
  if (target.services.length) await conn.run(`systemctl stop ${target.services.map(sh).join(' ')}`);

  step('restore', `snapshot ${snapshot.short_id} of ${snapshot.time}: ${snapshot.paths.join(', ')}`);
  const rest = await conn.run(`${SNAPSHOT_CMD} restore ${sh(snapshot.id)} 2>&1`);
  if (rest.code !== 0) throw new Error(`restore on ${target.host} failed (exit ${rest.code}): ${rest.stdout.trim()}`);

  step('start', target.services.join(', ') || '(no service held)');
  if (target.services.length) {
    const st = await conn.run(`systemctl start ${target.services.map(sh).join(' ')} 2>&1`);
    if (st.code !== 0) throw new Error(`starting ${target.services.join(', ')} on ${target.host} failed: ${st.stdout.trim()}`);
  }

  step('health', ch.health.map((h) => h.name).join('; ') || '(none declared)');
  for (const h of ch.health) {
    const tries = Math.max(1, Math.ceil((h.timeoutSeconds ?? 30) / 0.5));
    const res = await conn.run(`i=0; until ( ${h.script} ) >/dev/null 2>&1; do i=$((i+1)); [ "$i" -ge ${tries} ] && exit 1; sleep 0.5; done`);
    if (res.code !== 0) throw new Error(`health check failed on ${target.host} after the restore: ${h.name}`);
  }

  step('plan', 'a new plan of the host must be empty');
  const again = await run(onlyHost(compiled, target.host), transport, { ...opts, mode: 'plan' });
  const p = again.plan.hosts[0]!;
  if (p.error || p.changes.length || p.unhealthy.length) {
    throw new Error(`the plan of ${target.host} after the rebuild is not empty: ${p.error ?? [...p.changes.map((c) => c.id), ...p.unhealthy].join(', ')}`);
  }
  return { snapshot, restored: rest.stdout.trim(), seconds: Math.round((Date.now() - t0) / 100) / 10 };
}

/** `provision snapshot`: run each host's snapshot job now; its new snapshot id. */
export async function snapshotNow(transport: Connector, host: string): Promise<{ id: string; time: string }> {
  const conn = await transport.connect(host);
  const res = await conn.run(`systemctl start provision-snapshot.service 2>&1 && cat /var/lib/provision-snapshot/last`);
  if (res.code !== 0) {
    const log = await conn.run(`journalctl -u provision-snapshot.service -n 15 --no-pager -o cat 2>&1`);
    throw new Error(`the snapshot job failed on ${host}: ${res.stdout.trim()}\n${log.stdout.trim()}`);
  }
  const [id = '', time = ''] = res.stdout.trim().split(/\s+/);
  // restic's short form (older restic prints it, newer the full id): the same on every release
  return { id: id.slice(0, 8), time };
}
