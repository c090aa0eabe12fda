// The human rendering of a plan: per host, each change with its diff, then the handlers the changes
// trigger ("then: restart drand (service drand will restart) ← file:…") in the order apply runs them.
// A host with nothing to change is ONE line; skips and warnings that several hosts share are
// listed once with those hosts (--verbose lists them under every host instead).
import { hostHasWork, type HostPlan, type Plan, type PlannedHandler } from '../../plan/types.js';
import type { Style } from './style.js';

const SIGN = { create: '+', update: '~', delete: '-', run: '>' } as const;

export interface PlanViewOptions {
  verbose?: boolean;
}

export function renderPlan(plan: Plan, s: Style, opts: PlanViewOptions = {}): string {
  const out: string[] = [];
  const grouped = !opts.verbose;
  for (const h of plan.hosts) {
    if (h.error) {
      out.push(s('red', `✗ ${h.host}: ${h.error}`));
      continue;
    }
    const restarts = restartCount([h]);
    const left = h.handlers.filter((x) => x.pendingSince).length;
    const head = hostHasWork(h)
      ? s('yellow', [h.changes.length && count(h.changes.length, 'change'), restarts && count(restarts, 'service restart'), left && `${left} left pending by an interrupted run`].filter(Boolean).join(', '))
      : s('green', 'no changes');
    const quiet = grouped ? [h.skipped.length && count(h.skipped.length, 'skip'), h.warnings.length && count(h.warnings.length, 'warning')].filter(Boolean) : [];
    out.push(s('bold', `● ${h.host}`) + `: ${head}` + (quiet.length ? s('gray', ` (${quiet.join(', ')}, listed below)`) : ''));
    for (const c of h.changes) {
      out.push(`  ${s(c.action === 'delete' ? 'red' : c.action === 'create' ? 'green' : 'yellow', SIGN[c.action])} ${c.id}  ${s('dim', c.summary)}`);
      if (c.diff) out.push(colourDiff(c.diff, s).split('\n').map((l) => `      ${l}`).join('\n'));
    }
    for (const hd of h.handlers) out.push(handlerLine(hd, s));
    if (!grouped) {
      for (const sk of h.skipped) out.push(s('gray', `  · skip ${sk.id}: ${sk.reason}`));
      for (const w of h.warnings) out.push(s('yellow', `  ! ${w}`));
    }
    if (h.unhealthy.length) out.push(s(h.changes.length ? 'gray' : 'red', `  ! health check failing now: ${h.unhealthy.join(', ')}`));
  }
  if (grouped) {
    const ok = plan.hosts.filter((h) => !h.error);
    // lines that apply to the same hosts share one heading ("skipped on all 6 hosts:")
    const headed = new Map<string, { kind: Group['kind']; texts: string[] }>();
    for (const g of [...groupSkips(ok), ...groupWarnings(ok)]) {
      const head = `${g.kind} ${hostsPhrase(g.hosts, plan.hosts.length)}`;
      headed.set(head, { kind: g.kind, texts: [...(headed.get(head)?.texts ?? []), g.text] });
    }
    if (headed.size) out.push('');
    for (const [head, { kind, texts }] of headed) {
      const lines = texts.length === 1 ? [`${head}: ${texts[0]}`] : [`${head}:`, ...texts.map((t) => `  ${t}`)];
      out.push(...lines.map((l) => s(kind === 'skipped' ? 'gray' : 'yellow', l)));
    }
  }
  out.push('');
  out.push(closingLine(plan, s));
  return out.join('\n');
}

/**
 * Plan: "then: restart drand (service drand will restart) ← file:/etc/systemd/system/drand.service";
 * apply's summary: "ran: restart drand (restarted drand) ← …", "ran: reload ssh ← …".
 */
export function handlerLine(h: PlannedHandler, s: Style, done = false): string {
  const effect = done ? (h.restarts ? `restarted ${h.restarts}` : '') : h.effect;
  const pending = h.pendingSince ? s('yellow', ` [pending since interrupted run ${h.pendingSince.runId} at ${h.pendingSince.at}]`) : '';
  const by = h.notifiedBy.length ? s('dim', ` ← ${h.notifiedBy.join(', ')}`) : '';
  return `  ${s('cyan', done ? 'ran:' : 'then:')} ${h.name}${effect ? ' ' + s(h.restarts ? 'yellow' : 'dim', `(${effect})`) : ''}${pending}${by}`;
}

/** "Plan: 1 change on 1 of 6 hosts, 1 service restart" */
function closingLine(plan: Plan, s: Style): string {
  const total = plan.hosts.reduce((n, h) => n + h.changes.length, 0);
  const changed = plan.hosts.filter((h) => h.changes.length || h.handlers.length).length;
  const restarts = restartCount(plan.hosts);
  const others = plan.hosts.reduce((n, h) => n + h.handlers.filter((x) => !x.restarts).length, 0);
  const errors = plan.hosts.filter((h) => h.error).length;
  return (
    `Plan: ${count(total, 'change')} on ${changed} of ${count(plan.hosts.length, 'host')}` +
    (restarts ? `, ${count(restarts, 'service restart')}` : '') +
    (others ? `, ${count(others, 'other handler')}` : '') +
    (errors ? s('red', `, ${count(errors, 'host')} with errors`) : '')
  );
}

const restartCount = (hosts: HostPlan[]): number => hosts.reduce((n, h) => n + h.handlers.filter((x) => x.restarts).length, 0);

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

interface Group {
  kind: 'skipped' | 'warning';
  text: string;
  hosts: string[];
}

/** Skips with one reason on one host form one line; hosts with the same line share it. */
function groupSkips(hosts: HostPlan[]): Group[] {
  return groupBy(
    hosts.flatMap((h) => {
      const byReason = new Map<string, string[]>();
      for (const sk of h.skipped) byReason.set(sk.reason, [...(byReason.get(sk.reason) ?? []), sk.id]);
      return [...byReason].map(([reason, ids]) => ({ host: h.host, text: `${ids.join(', ')} — ${reason}` }));
    }),
    'skipped',
  );
}

function groupWarnings(hosts: HostPlan[]): Group[] {
  return groupBy(hosts.flatMap((h) => [...new Set(h.warnings)].map((w) => ({ host: h.host, text: w }))), 'warning');
}

function groupBy(items: { host: string; text: string }[], kind: Group['kind']): Group[] {
  const m = new Map<string, string[]>();
  for (const it of items) m.set(it.text, [...(m.get(it.text) ?? []), it.host]);
  return [...m].map(([text, hosts]) => ({ kind, text, hosts }));
}

/** "on app-1", "on 2 hosts (a, b)", "on all 6 hosts", "on 12 hosts (a, b, c, d, e, f, … and 6 more)" */
function hostsPhrase(hosts: string[], of: number): string {
  if (hosts.length === 1) return `on ${hosts[0]}`;
  if (hosts.length === of) return of === 2 ? 'on both hosts' : `on all ${of} hosts`;
  const shown = hosts.length > 8 ? [...hosts.slice(0, 6), `… and ${hosts.length - 6} more`] : hosts;
  return `on ${hosts.length} hosts (${shown.join(', ')})`;
}

/** `provision status`: per host, the last apply recorded on it beside what differs now. */
export function statusJson(plan: Plan) {
  return {
    hosts: plan.hosts.map((h) => ({
      host: h.host,
      error: h.error,
      lastRun: h.records?.lastRun ?? null,
      drift: h.changes.map((c) => ({ id: c.id, summary: c.summary })),
      pendingHandlers: leftPending(h),
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
    const pending = leftPending(h);
    out.push(s('bold', `● ${h.host}`) + `: ${hostHasWork(h) ? s('yellow', `${h.changes.length} drifted, ${pending.length} handler(s) left pending`) : s('green', 'converged')}`);
    out.push(`  last apply: ${lastRun(h, s)}`);
    for (const c of h.changes) out.push(`  ~ ${c.id}  ${s('dim', c.summary)}`);
    for (const p of pending) out.push(`  > ${p.name}: pending since run ${p.runId} (${p.at})`);
    const lock = h.records?.lock;
    if (lock) out.push(`  lock: ${lock.owner}, run ${lock.runId} since ${lock.since}, lease until ${lock.expires}${lock.expired ? s('yellow', ' (expired: the next apply takes it over)') : ''}`);
    for (const a of h.records?.armed ?? []) out.push(s('yellow', `  ! restore armed by run ${a.runId} at ${a.at}, never confirmed`));
  }
  return out.join('\n');
}

/** Handlers an interrupted run left pending on the host (the next apply runs them). */
const leftPending = (h: HostPlan) => h.handlers.flatMap((x) => (x.pendingSince ? [{ name: x.name, ...x.pendingSince }] : []));

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
