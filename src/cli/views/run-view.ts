// Progress of a run. A terminal gets an ora spinner; CI and pipes get one plain line per event.
import type { Ora } from 'ora';
import type { EngineEvent, HostResult } from '../../apply/events.js';
import type { Style } from './style.js';
import { handlerLine } from './plan-view.js';
import { redact } from '../../secrets/value.js';

export class RunView {
  private spinner?: Ora;
  private done = 0;
  constructor(
    private readonly interactive: boolean,
    private readonly s: Style,
    private readonly total: number,
    private readonly write: (line: string) => void,
  ) {}

  /** ora is loaded only for a terminal: CI and pipes never pay for it. */
  async start(what: string): Promise<void> {
    if (!this.interactive) return this.write(what);
    const { default: ora } = await import('ora');
    this.spinner = ora({ text: what, stream: process.stderr }).start();
  }

  onEvent = (e: EngineEvent): void => {
    const line = this.describe(e);
    if (!line) return;
    if (this.spinner) {
      // ora writes to the terminal itself, past Io: redact here too.
      this.spinner.text = `${redact(line)}  ${this.s('dim', `(${this.done}/${this.total} hosts done)`)}`;
    } else this.write(line);
  };

  stop(): void {
    this.spinner?.stop();
  }

  private describe(e: EngineEvent): string | undefined {
    switch (e.type) {
      case 'host.probing':
        return `${e.host}: probing`;
      case 'host.planned':
        return e.error ? `${e.host}: ${this.s('red', e.error)}` : `${e.host}: ${e.changes} change(s) planned`;
      case 'play.batch':
        return `play "${e.play}" batch ${e.batch}/${e.batches}: ${e.hosts.join(', ')}`;
      case 'change.applying':
        return undefined;
      case 'change.applied':
        return `${e.host}: applied ${e.change.id}`;
      case 'guard.login':
        return `${e.host}: fresh login after ${e.change}: ${e.ok ? 'ok' : this.s('red', 'FAILED — restoring')}`;
      case 'lock.takenover':
        return this.s('yellow', `${e.host}: took over the lock of run ${e.runId} by ${e.owner}: its lease expired at ${e.expired} (host clock)`);
      case 'handler.ran':
        return `${e.host}: ran handler ${e.handler}`;
      case 'host.verifying':
        return `${e.host}: verifying`;
      case 'budget.exceeded':
        return this.s('red', `play "${e.play}": ${e.failed}/${e.total} hosts failed, over max_fail_percentage ${e.maxFailPercentage}: stopping`);
      case 'host.done':
        this.done++;
        return `${e.result.host}: ${e.result.status}`;
    }
  }
}

export function summaryTable(results: HostResult[], s: Style): string {
  const rows = results.map((r) => [r.host, r.status, String(r.changes.length), String(r.execs), `${(r.durationMs / 1000).toFixed(1)}s`, firstLine(r.error ?? '')]);
  const head = ['HOST', 'RESULT', 'CHANGES', 'EXECS', 'TIME', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 5 ? 0 : r[i]!.length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 5 ? c : c.padEnd(widths[i]!))).join('  ');
  const colour = (status: string): 'yellow' | 'green' | 'red' => (status === 'changed' ? 'yellow' : status === 'unchanged' ? 'green' : 'red');
  return [s('bold', fmt(head)), ...rows.map((r) => {
    const line = fmt([r[0]!, r[1]!.padEnd(widths[1]!), ...r.slice(2)]);
    return line.replace(r[1]!.padEnd(widths[1]!), s(colour(r[1]!), r[1]!.padEnd(widths[1]!)));
  })].join('\n');
}

const firstLine = (s: string): string => {
  const l = s.split('\n')[0] ?? '';
  return l.length > 80 ? l.slice(0, 77) + '...' : l;
};

/** apply's own account of the handlers it ran, per host, in the order they ran (the plan listed the same). */
export function handlersRun(results: HostResult[], s: Style): string {
  const out: string[] = [];
  for (const r of results.filter((r) => r.handlers.length)) out.push(`${r.host}:`, ...r.handlers.map((h) => handlerLine(h, s, true)));
  return out.join('\n');
}
