// Bad input is reported before any connection is opened, always in the same shape:
// the file, the path inside it, what was expected and what was found.
import path from 'node:path';

export interface InputProblem {
  file: string; // absolute or repo-relative path of the file
  /** path inside the file, e.g. "hosts.drand-1.port" ("" for the whole file) */
  at: string;
  expected: string;
  found: string;
  line?: number;
}

export class InputError extends Error {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
    this.problems = problems;
  }
}

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export function formatProblem(p: InputProblem): string {
  const where = `${displayPath(p.file)}${p.line ? `:${p.line}` : ''}`;
  const at = p.at ? ` at ${p.at}` : '';
  return `${where}${at}: expected ${p.expected}, found ${p.found}`;
}

/** Show a found value briefly and unambiguously (strings quoted, long values cut). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'object') return `a map with keys ${Object.keys(v as object).join(', ') || '(none)'}`;
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 60 ? s.slice(0, 57) + '...' : s}`;
}

/** Collects problems so one run reports all of them, not just the first. */
export class ProblemList {
  readonly items: InputProblem[] = [];
  add(p: InputProblem): void {
    this.items.push(p);
  }
  throwIfAny(): void {
    if (this.items.length) throw new InputError(this.items);
  }
}
