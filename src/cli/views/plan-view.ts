// The human rendering of a plan: per host, each change with its diff, skips with reasons, warnings.
import type { Plan } from '../../plan/types.js';
import type { Style } from './style.js';

const SIGN = { create: '+', update: '~', delete: '-', run: '>' } as const;

export function renderPlan(plan: Plan, s: Style): string {
  const out: string[] = [];
  for (const h of plan.hosts) {
    if (h.error) {
      out.push(s('red', `✗ ${h.host}: ${h.error}`));
      continue;
    }
    const head = h.changes.length ? s('yellow', `${h.changes.length} to change`) : s('green', 'no changes');
    out.push(s('bold', `● ${h.host}`) + `: ${head}`);
    for (const c of h.changes) {
      out.push(`  ${s(c.action === 'delete' ? 'red' : c.action === 'create' ? 'green' : 'yellow', SIGN[c.action])} ${c.id}  ${s('dim', c.summary)}`);
      if (c.diff) out.push(colourDiff(c.diff, s).split('\n').map((l) => `      ${l}`).join('\n'));
    }
    for (const sk of h.skipped) out.push(s('gray', `  · skip ${sk.id}: ${sk.reason}`));
    for (const w of h.warnings) out.push(s('yellow', `  ! ${w}`));
    if (h.unhealthy.length) out.push(s(h.changes.length ? 'gray' : 'red', `  ! health check failing now: ${h.unhealthy.join(', ')}`));
  }
  const total = plan.hosts.reduce((n, h) => n + h.changes.length, 0);
  const errors = plan.hosts.filter((h) => h.error).length;
  out.push('');
  out.push(`Plan: ${total} change(s) on ${plan.hosts.filter((h) => h.changes.length).length} of ${plan.hosts.length} host(s)` + (errors ? s('red', `, ${errors} host(s) with errors`) : ''));
  return out.join('\n');
}

function colourDiff(diff: string, s: Style): string {
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? s('green', l) : l.startsWith('-') && !l.startsWith('---') ? s('red', l) : l.startsWith('@@') ? s('cyan', l) : l))
    .join('\n');
}
