// The human rendering of a plan: per host, each change with its diff, skips with reasons, warnings.
import { hostHasWork, type HostPlan, type Plan } from '../../plan/types.js';
import type { Style } from './style.js';

const SIGN = { create: '+', update: '~', delete: '-', run: '>' } as const;

export function renderPlan(plan: Plan, s: Style): string {
  const out: string[] = [];
  for (const h of plan.hosts) {
    if (h.error) {
      out.push(s('red', `✗ ${h.host}: ${h.error}`));
      continue;
    }
    const pending = h.pendingHandlers ?? [];
    const head = hostHasWork(h)
      ? s('yellow', [h.changes.length ? `${h.changes.length} to change` : '', pending.length ? `${pending.length} pending handler(s)` : ''].filter(Boolean).join(', '))
      : s('green', 'no changes');
    out.push(s('bold', `● ${h.host}`) + `: ${head}`);
    for (const c of h.changes) {
      out.push(`  ${s(c.action === 'delete' ? 'red' : c.action === 'create' ? 'green' : 'yellow', SIGN[c.action])} ${c.id}  ${s('dim', c.summary)}`);
      if (c.diff) out.push(colourDiff(c.diff, s).split('\n').map((l) => `      ${l}`).join('\n'));
    }
    for (const p of pending) out.push(`  ${s('yellow', '>')} ${p.name}: ${s('yellow', `pending since run ${p.runId} (${p.at})`)}`);
    for (const sk of h.skipped) out.push(s('gray', `  · skip ${sk.id}: ${sk.reason}`));
    for (const w of h.warnings) out.push(s('yellow', `  ! ${w}`));
    if (h.unhealthy.length) out.push(s(h.changes.length ? 'gray' : 'red', `  ! health check failing now: ${h.unhealthy.join(', ')}`));
  }
  const total = plan.hosts.reduce((n, h) => n + h.changes.length, 0);
  const errors = plan.hosts.filter((h) => h.error).length;
  out.push('');
  const pendingTotal = plan.hosts.reduce((n, h) => n + (h.pendingHandlers?.length ?? 0), 0);
  out.push(
    `Plan: ${total} change(s)${pendingTotal ? ` and ${pendingTotal} pending handler(s)` : ''} on ${plan.hosts.filter(hostHasWork).length} of ${plan.hosts.length} host(s)` +
      (errors ? s('red', `, ${errors} host(s) with errors`) : ''),
  );
  return out.join('\n');
}

/** `provision status`: per host, the last apply recorded on it beside what differs now. */
export function statusJson(plan: Plan) {
  return {
    hosts: plan.hosts.map((h) => ({
      host: h.host,
      error: h.error,
      lastRun: h.records?.lastRun ?? null,
      drift: h.changes.map((c) => ({ id: c.id, summary: c.summary })),
      pendingHandlers: h.pendingHandlers,
      lock: h.records?.lock ?? null,
      armedRestores: h.records?.armed ?? [],
      generation: h.records?.generation ?? 0,
    })),
  };
}

export function renderStatus(plan: Plan, s: Style): string {
  const out: string[] = [];
  for (const h of plan.hosts) {
    if (h.error) {
      out.push(s('red', `✗ ${h.host}: ${h.error}`));
      continue;
    }
    out.push(s('bold', `● ${h.host}`) + `: ${hostHasWork(h) ? s('yellow', `${h.changes.length} drifted, ${h.pendingHandlers.length} pending handler(s)`) : s('green', 'converged')}`);
    out.push(`  last apply: ${lastRun(h, s)}`);
    for (const c of h.changes) out.push(`  ~ ${c.id}  ${s('dim', c.summary)}`);
    for (const p of h.pendingHandlers) out.push(`  > ${p.name}: pending since run ${p.runId} (${p.at})`);
    const lock = h.records?.lock;
    if (lock) out.push(`  lock: ${lock.owner}, run ${lock.runId} since ${lock.since}, lease until ${lock.expires}${lock.expired ? s('yellow', ' (expired: the next apply takes it over)') : ''}`);
    for (const a of h.records?.armed ?? []) out.push(s('yellow', `  ! restore armed by run ${a.runId} at ${a.at}, never confirmed`));
  }
  return out.join('\n');
}

function lastRun(h: HostPlan, s: Style): string {
  const r = h.records?.lastRun;
  if (!r) return s('dim', 'none recorded');
  const result = r.result === 'applied' ? s('green', r.result) : s('red', r.result);
  return `${r.at} by ${r.by}, run ${r.runId}: ${result}, ${r.changes} change(s); roles ${r.roles.join(', ')}; playbook ${r.playbook}` +
    `${r.commit ? `; commit ${r.commit}` : ''}; plan ${r.fingerprint.slice(0, 12)}`;
}

function colourDiff(diff: string, s: Style): string {
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? s('green', l) : l.startsWith('-') && !l.startsWith('---') ? s('red', l) : l.startsWith('@@') ? s('cyan', l) : l))
    .join('\n');
}
