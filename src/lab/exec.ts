// Every external command runs through execFile with an argv array: no shell, so no quoting bugs.
// `sh()` is used only to show a command in an error message the way a person would type it.
import { execFile } from 'node:child_process';
import { shArgs } from '../shell/quote.js';

// Root's tools live in sbin; a CI runner's PATH may lack it.
const SBIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
export const TOOL_PATH = [...new Set([...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN])].join(':');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs a command to completion; never throws for a non-zero exit (see `runOk`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        env: { ...process.env, PATH: TOOL_PATH, LC_ALL: 'C', ...opts.env },
        timeout: opts.timeoutMs ?? 0,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        let code = 0;
        if (e) code = typeof e.code === 'number' ? e.code : e.killed ? 124 : 127;
        const extra = e && typeof e.code === 'string' ? `${e.message}\n` : e?.killed ? 'timed out\n' : '';
        resolve({ code, stdout, stderr: extra + stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and throws a readable error (the command line plus its stderr) if it fails. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${shArgs([cmd, ...args])} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  }
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
