// Runs one command and measures what it costs the controller:
//   wall time   — spawn to exit of the command (for Ansible: ansible-playbook's exit);
//   CPU time    — user+sys of EVERY process the command started, daemonized ones included (OpenSSH
//                 ControlPersist masters detach from ansible-playbook, so wait4/getrusage never sees
//                 them): the command runs in its own cgroup (v1 cpuacct, or v2), and the masters are
//                 closed before the cgroup's counters are read;
//   memory      — max RSS of the largest single process (GNU time's %M: exact, from wait4), and the
//                 peak of the SUM of RSS (every 100 ms) and of PSS (every second) over all processes
//                 of the cgroup. For a single process (provision) the three agree; for Ansible's
//                 forks Σ RSS counts the pages they share (copy-on-write) once per fork, Σ PSS
//                 splits them fairly: PSS is the honest figure for "memory the run took".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CpuFigures {
  userMs: number;
  sysMs: number;
  totalMs: number;
  /** where the figures come from */
  source: 'cgroup-v1-cpuacct' | 'cgroup-v2' | 'wait4';
}

export interface MemFigures {
  /** GNU time %M: the largest single process of the tree */
  maxRssMB: number;
  /** peak of Σ RSS over the tree (sampled every 100 ms) */
  peakSumRssMB: number;
  /** peak of Σ PSS over the tree (sampled every second); null when smaps_rollup is unreadable */
  peakSumPssMB: number | null;
  /** most processes seen at once */
  peakProcs: number;
}

export interface Measured {
  code: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  wallMs: number;
  cpu: CpuFigures;
  mem: MemFigures;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** after the command exited, before CPU is read: stop what it left running (ssh masters) */
  cleanup?: () => Promise<void>;
  /** called with the pid of the wrapper (its process group), so a SIGINT handler can stop it */
  onStart?: (pid: number) => void;
  /** kill everything the command started after this long (the result then says timedOut) */
  timeoutMs?: number;
}

const PAGE = 4096;
let seq = 0;

interface Cgroup {
  dir: string;
  kind: 'cgroup-v1-cpuacct' | 'cgroup-v2';
}

function makeCgroup(): Cgroup | null {
  const name = `prvbench-${process.pid}-${++seq}`;
  const candidates: Cgroup[] = [
    { dir: '/sys/fs/cgroup/cpuacct', kind: 'cgroup-v1-cpuacct' },
    { dir: '/sys/fs/cgroup/unified', kind: 'cgroup-v2' },
    { dir: '/sys/fs/cgroup', kind: 'cgroup-v2' },
  ];
  for (const c of candidates) {
    const probe = c.kind === 'cgroup-v1-cpuacct' ? 'cpuacct.usage_user' : 'cpu.stat';
    if (!fs.existsSync(path.join(c.dir, probe))) continue;
    const dir = path.join(c.dir, name);
    try {
      fs.mkdirSync(dir);
      if (fs.existsSync(path.join(dir, probe))) return { dir, kind: c.kind };
      fs.rmdirSync(dir);
    } catch {
      /* not writable here: try the next */
    }
  }
  return null;
}

function cgroupPids(cg: Cgroup): number[] {
  try {
    return fs
      .readFileSync(path.join(cg.dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Descendants of `root` (inclusive), from /proc: the fallback without a cgroup. */
function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

function rssBytes(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(f[1]) * PAGE;
  } catch {
    return 0;
  }
}

function pssBytes(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch (e) {
    // a process that just ended counts 0; a kernel without smaps_rollup (or no permission): no PSS
    return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH' ? 0 : null;
  }
}

function readCpu(cg: Cgroup): { userMs: number; sysMs: number } {
  if (cg.kind === 'cgroup-v1-cpuacct') {
    const ns = (f: string) => Number(fs.readFileSync(path.join(cg.dir, f), 'utf8').trim());
    return { userMs: ns('cpuacct.usage_user') / 1e6, sysMs: ns('cpuacct.usage_sys') / 1e6 };
  }
  const stat = fs.readFileSync(path.join(cg.dir, 'cpu.stat'), 'utf8');
  const us = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
  return { userMs: us('user_usec') / 1e3, sysMs: us('system_usec') / 1e3 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every pid inside our cgroup is a descendant of a command we started: SIGKILL what is left. */
export async function emptyCgroup(cg: Cgroup, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  while (cgroupPids(cg).length && Date.now() < until) await sleep(50);
  for (const pid of cgroupPids(cg)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 5000;
  while (cgroupPids(cg).length && Date.now() < deadline) await sleep(50);
}

/** Live cgroups of measured commands, so a SIGINT can stop everything in them. */
const live = new Set<Cgroup>();

export function killAllMeasured(): void {
  for (const cg of live) {
    for (const pid of cgroupPids(cg)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

export async function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<Measured> {
  const cg = makeCgroup();
  if (cg) live.add(cg);
  const timeFile = path.join(os.tmpdir(), `prvbench-time-${process.pid}-${++seq}`);
  // The wrapper moves itself into the cgroup, then execs GNU time, which execs the command:
  // everything the command starts is born inside the cgroup.
  const script = 'cg=$1; tf=$2; shift 2; if [ -n "$cg" ]; then echo $$ >"$cg/cgroup.procs" || exit 125; fi; exec /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@"';
  // stdout goes to a file, not a pipe: node's process.exit() cuts a large --json output written to
  // a pipe (only what fits the pipe buffer, ~200 KB, arrives); a file is written synchronously.
  const outFile = path.join(os.tmpdir(), `prvbench-out-${process.pid}-${seq}`);
  const outFd = fs.openSync(outFile, 'w', 0o600);
  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', script, 'sh', cg?.dir ?? '', timeFile, cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', outFd, 'pipe'],
    detached: true, // its own process group
  });
  fs.closeSync(outFd);
  if (child.pid) opts.onStart?.(child.pid);
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));

  let peakRss = 0;
  let peakPss: number | null = 0;
  let peakProcs = 0;
  let tick = 0;
  const sample = () => {
    const pids = cg ? cgroupPids(cg) : child.pid ? treePids(child.pid) : [];
    peakProcs = Math.max(peakProcs, pids.length);
    peakRss = Math.max(peakRss, pids.reduce((s, p) => s + rssBytes(p), 0));
    if (tick++ % 10 === 0 && peakPss !== null) {
      let sum = 0;
      for (const p of pids) {
        const v = pssBytes(p);
        if (v === null) {
          peakPss = null;
          return;
        }
        sum += v;
      }
      peakPss = Math.max(peakPss, sum);
    }
  };
  const timer = setInterval(sample, 100);
  setTimeout(sample, 20);

  let timedOut = false;
  const killer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        for (const pid of cg ? cgroupPids(cg) : child.pid ? treePids(child.pid) : []) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }, opts.timeoutMs)
    : undefined;
  const code = await new Promise<number>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  const wallMs = performance.now() - started;
  clearInterval(timer);
  clearTimeout(killer);

  if (opts.cleanup) await opts.cleanup();
  let cpu: CpuFigures;
  const timeLine = (fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8') : '').trim().split('\n').pop() ?? '';
  fs.rmSync(timeFile, { force: true });
  const [, u = '0', s = '0', m = '0'] = timeLine.split(' ');
  if (cg) {
    await emptyCgroup(cg, 10_000);
    const c = readCpu(cg);
    cpu = { ...c, totalMs: c.userMs + c.sysMs, source: cg.kind };
    try {
      fs.rmdirSync(cg.dir);
    } catch {
      /* still busy: left for the kernel */
    }
    live.delete(cg);
  } else {
    cpu = { userMs: Number(u) * 1000, sysMs: Number(s) * 1000, totalMs: (Number(u) + Number(s)) * 1000, source: 'wait4' };
  }
  const stdout = fs.readFileSync(outFile, 'utf8');
  fs.rmSync(outFile, { force: true });
  const MB = 1024 * 1024;
  return {
    code,
    timedOut,
    stdout,
    stderr: Buffer.concat(err).toString('utf8'),
    wallMs,
    cpu,
    mem: {
      maxRssMB: (Number(m) * 1024) / MB,
      peakSumRssMB: peakRss / MB,
      peakSumPssMB: peakPss === null ? null : peakPss / MB,
      peakProcs,
    },
  };
}
