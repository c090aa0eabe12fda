// Processes the lab started are tracked by pid file. A pid is only trusted (and only ever signalled)
// when /proc/<pid>/cmdline still shows the command we started: pids get reused.
import { spawn } from 'node:child_process';
import { open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { sleep, TOOL_PATH } from './exec.js';

export async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

export async function writePid(file: string, pid: number): Promise<void> {
  await writeFile(file, `${pid}\n`);
}

export async function removePid(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** argv of a live process; undefined if gone or a zombie (a zombie's cmdline is empty). */
export async function cmdline(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!raw) return undefined;
  return raw.split('\0').filter((s) => s !== '');
}

export type CmdlineMatch = (argv: string[]) => boolean;

/** The recorded pid, if that process is alive and is still the one we started. */
export async function ourLivePid(pidFile: string, matches: CmdlineMatch): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  if (pid === undefined) return undefined;
  const argv = await cmdline(pid);
  return argv && matches(argv) ? pid : undefined;
}

/** Children of a process (needs CONFIG_PROC_CHILDREN, present on Debian kernels). */
export async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const kids: number[] = [];
  for (const t of tasks) {
    const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
    kids.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return kids;
}

export async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // comm may contain spaces and parentheses: fields start after the last ')'
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(after[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

export function signal(pid: number, sig: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process is gone (or a zombie); true if it went within the time. */
export async function waitGone(pid: number, timeoutMs: number, matches: CmdlineMatch): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const argv = await cmdline(pid);
    if (!argv || !matches(argv)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** Waits until the pid is gone or a zombie, whatever it runs (for a process we just SIGKILLed). */
export async function waitExited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** Starts a long-lived process (a host's machine) detached from us, output to `logFile`, its pid recorded in `pidFile`. */
export async function spawnDetached(command: string, args: readonly string[], logFile: string, pidFile: string): Promise<number> {
  const log = await open(logFile, 'w');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, PATH: TOOL_PATH } });
    child.unref();
    if (!child.pid) throw new Error(`${command} did not start`);
    await writePid(pidFile, child.pid);
    return child.pid;
  } finally {
    await log.close();
  }
}
