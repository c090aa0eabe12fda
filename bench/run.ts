#!/usr/bin/env node
// `npm run bench`: provision against Ansible on the bench's own lab fleet (bastion + N drand nodes
// behind it, bridge prvbench0, 10.213.50.0/24). For each N the fleet is booted once and converged,
// untimed, by provision with bench/provision-site.yaml (base + drand-node: base renders drand-node's
// firewall openings). Then three kinds of run, each measured for both tools reaching the same state
// (provision: base + drand-node; Ansible: bench/ansible/site.yml, drand-node's part only):
//   first    — drand-node added to a base host: before each one, drand-node's part is stripped from
//              every node over SSH (bench/lib/strip.ts), untimed, and `provision plan` must find
//              only drand-node's resources to do;
//   nochange — a run that changes nothing;
//   drift    — a run that repairs one drifted file per host (drand.service edited over SSH first).
// Figures: wall time, controller CPU (user+sys of every process the tool started), peak memory,
// remote execs per host. See bench/RESULTS.md for the method and the figures.
//
//   npm run bench -- [--sizes 1,10,20,50] [--runs 3] [--first-runs K] [--tools provision,ansible]
//                    [--only first,nochange,drift] [--no-profile] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labDown, labUp, type LabEvent } from '../src/lab/index.js';
import { BASTION, writeAnsibleCfg, writeFleet, MAX_NODES, type BenchFleet } from './lib/fleet.js';
import { killAllMeasured, measure, type Measured } from './lib/measure.js';
import { assertAllOk, onHosts } from './lib/remote.js';
import { fmtMB, fmtSeconds, median, round, table } from './lib/stats.js';
import { analyseProfile } from './lib/cpuprofile.js';
import { startAptProxy, type AptProxy } from './lib/aptproxy.js';
import { APT_CACHE_PORT } from '../src/lab/aptcache.js';
import { gatewayOf } from '../src/inventory/lab-network.js';
import { loadInventory } from '../src/inventory/load.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { compile } from '../src/plan/compile.js';
import { checkStripPlan, STRIP_DRAND_NODE } from './lib/strip.js';

type Tool = 'provision' | 'ansible';
type Scenario = 'first' | 'nochange' | 'drift';
const SCENARIOS: Scenario[] = ['first', 'nochange', 'drift'];
const SCENARIO_LABEL: Record<Scenario, string> = { first: 'first apply (drand-node on a base host)', nochange: 'no change', drift: 'repair 1 drifted file/host' };

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'); // dist/bench/run.js → repo
const work = path.join(repo, 'bench', '.work');
const cli = path.join(repo, 'dist/src/cli/main.js');
const providerPlaybook = path.join(repo, 'bench/provision-site.yaml');
const ansiblePlaybook = path.join(repo, 'bench/ansible/site.yml');
/** the node whose sshd logs every session it starts (LogLevel VERBOSE): the exec count of both tools */
const SAMPLE = 'drand-1';
/** a measured run still going after this is killed and recorded as failed */
const RUN_TIMEOUT_MS = 20 * 60_000;

interface RunRecord {
  tool: Tool;
  scenario: Scenario;
  nodes: number;
  rep: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  cpu: Measured['cpu'];
  mem: Measured['mem'];
  /** remote execs on the sample node, counted from its sshd log ("Starting session:" lines) */
  sshdExecs: number | null;
  /** provision only: the `execs` field of --json, per host */
  jsonExecs?: { median: number; max: number; min: number };
  /** per host: provision's changes, Ansible's changed= */
  changed: { median: number; min: number; max: number };
  /** Ansible first apply: `provision plan` on the same hosts afterwards found nothing to change */
  provisionPlanClean?: boolean;
  load1: number;
  /** killed after its time limit (a hang) */
  timedOut?: boolean;
  /** first applies: which try this was (a hung one is done again after another strip) */
  attempt?: number;
}

interface Opts {
  sizes: number[];
  runs: number;
  /** per size (same order as --sizes), or one value for all */
  firstRuns: number[] | undefined;
  tools: Tool[];
  only: Scenario[];
  profile: boolean;
  keep: boolean;
}

function parseOpts(argv: string[]): Opts {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1,10,20,50' },
      runs: { type: 'string', default: '3' },
      'first-runs': { type: 'string' },
      tools: { type: 'string', default: 'provision,ansible' },
      only: { type: 'string', default: SCENARIOS.join(',') },
      'no-profile': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    console.log(
      'usage: npm run bench -- [--sizes 1,10,20,50] [--runs 3] [--first-runs K] [--tools provision,ansible]\n' +
        '                        [--only first,nochange,drift] [--no-profile] [--keep]\n' +
        '  --first-runs K  first applies (drand-node added to base hosts) per tool and size; default --runs;\n' +
        '                  one value per size also works: --sizes 1,10,20,50 --first-runs 3,3,3,1\n' +
        '  --keep          leave the last fleet running (default: always brought down and wiped)',
    );
    process.exit(0);
  }
  const ints = (s: string, what: string) =>
    s.split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${what}: "${x}" is not an integer ≥ 1`);
      return n;
    });
  const sizes = ints(v.sizes!, 'sizes');
  if (v['first-runs'] && ![1, sizes.length].includes(v['first-runs'].split(',').length)) throw new Error('--first-runs: one value, or one per size');
  if (sizes.some((n) => n > MAX_NODES)) throw new Error(`--sizes: at most ${MAX_NODES} nodes`);
  const tools = v.tools!.split(',').map((t) => t.trim()) as Tool[];
  if (!tools.length || tools.some((t) => t !== 'provision' && t !== 'ansible')) throw new Error('--tools: provision and/or ansible');
  const only = v.only!.split(',').map((t) => t.trim()) as Scenario[];
  if (only.some((s) => !SCENARIOS.includes(s))) throw new Error(`--only: some of ${SCENARIOS.join(', ')}`);
  return {
    sizes,
    runs: ints(v.runs!, 'runs')[0]!,
    firstRuns: v['first-runs'] ? ints(v['first-runs'], 'first-runs') : undefined,
    tools,
    only,
    profile: !v['no-profile'],
    keep: v.keep!,
  };
}

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let aborted = false;
function checkAbort(): void {
  if (aborted) throw new Error('interrupted');
}

// ---------------------------------------------------------------------------------------------
// Prerequisites: Debian's ansible and GNU time; the lab installs its own packages (installDeps).
function ensureTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the bench must run as root: it boots lab hosts (systemd-nspawn, a bridge, overlays)');
  const missing: string[] = [];
  if (spawnSync('sh', ['-c', 'command -v ansible-playbook']).status !== 0) missing.push('ansible');
  if (!fs.existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
      const r = spawnSync('apt-get', args, { env, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
    }
  }
  // Every lab host's systemd takes inotify instances, all counted against root: Debian's default of
  // 128 is used up by ~20 containers and the next ones die at boot ("Too many open files").
  const f = '/proc/sys/fs/inotify/max_user_instances';
  const cur = Number(fs.readFileSync(f, 'utf8'));
  if (cur < 8192) {
    fs.writeFileSync(f, '8192');
    log(`raised fs.inotify.max_user_instances from ${cur} to 8192 (lab hosts' systemd needs them; left raised)`);
  }
}

function machine(): Record<string, unknown> {
  const sh = (c: string) => spawnSync('sh', ['-c', c], { encoding: 'utf8' }).stdout.trim();
  return {
    date: new Date().toISOString(),
    nproc: Number(sh('nproc')),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    cpuModel: /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    kernel: os.release(),
    os: sh('. /etc/os-release && echo "$PRETTY_NAME"'),
    node: process.version,
    ansible: sh('ansible-playbook --version | head -1'),
    openssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
    provisionCommit: sh(`git -C ${repo} rev-parse --short HEAD`) + (sh(`git -C ${repo} status --porcelain -- src roles`) ? ' (+ uncommitted src/roles)' : ''),
    load1AtStart: round(os.loadavg()[0]!, 2),
  };
}

// ---------------------------------------------------------------------------------------------
let current: BenchFleet | undefined;
let aptProxy: AptProxy | undefined;
const BENCH_APT_PROXY_PORT = 3243;
const aptProxyStats: Record<string, unknown>[] = [];
async function stopAptProxy(): Promise<void> {
  if (!aptProxy) return;
  aptProxyStats.push({ nodes: current?.nodes.length, ...aptProxy.stats });
  await aptProxy.close();
  aptProxy = undefined;
}
let tornDown: Promise<void> | undefined;
const labLog = (e: LabEvent) => {
  if (e.type === 'lab.warning' || e.type === 'lab.deps.installing' || e.type === 'lab.base.building' || e.type === 'lab.base.built') log(`lab: ${JSON.stringify(e)}`);
};

function teardown(): Promise<void> {
  tornDown ??= (async () => {
    killAllMeasured();
    await stopAptProxy();
    if (!current) return;
    log('bringing the bench fleet down (hosts stopped and wiped, bridge removed)');
    await downWithRetry(current.fleet).catch((e: Error) => log(`lab down failed: ${e.message}`));
  })();
  return tornDown;
}

/** labDown, once more after a failure: a host that needed its 30 s shutdown timeout has been seen
 * to make the wipe fail with "host bastion is still running" (a lab issue, reported). */
async function downWithRetry(fleet: BenchFleet['fleet']): Promise<void> {
  try {
    await labDown(fleet, labLog, { wipe: true });
  } catch (e) {
    log(`lab down failed (${(e as Error).message.split('\n')[0]}), trying again`);
    await sleep(3000);
    await labDown(fleet, labLog, { wipe: true });
  }
}

/** Wipe and boot the whole fleet (once per size). Returns the boot time. */
async function freshFleet(bf: BenchFleet): Promise<number> {
  checkAbort();
  await stopAptProxy();
  await downWithRetry(bf.fleet);
  checkAbort();
  const r = await labUp(bf.fleet, { installDeps: true }, labLog);
  checkAbort();
  // One change to the fresh nodes, the same for both tools and managed by neither: apt goes through
  // the bench's apt proxy (bench/lib/aptproxy.ts) in front of the lab's cache. (The exec count needs
  // sshd's `LogLevel VERBOSE`: base sets it on every node; a drop-in of the bench's own in
  // sshd_config.d would be quarantined by base as a file provision did not write.)
  const gw = gatewayOf(bf.fleet.network);
  aptProxy = await startAptProxy(gw, BENCH_APT_PROXY_PORT, { host: gw, port: APT_CACHE_PORT });
  const res = await onHosts(bf.invDir, bf.nodes.map((h) => h.name), () =>
    `printf '%s\\n' 'Acquire::http::Proxy "${aptProxy!.url}";' >/etc/apt/apt.conf.d/99bench-apt-proxy`,
  );
  assertAllOk('preparing the fresh nodes', res);
  // Ansible's forks open one ProxyJump connection each through the bastion at once: past sshd's
  // default MaxStartups (10:30:100) the bastion drops them ("kex_exchange_identification:
  // Connection closed"). provision needs one bastion connection; Ansible gets a bastion that lets it in.
  const bastion = await onHosts(bf.invDir, [BASTION.name], () => "printf 'MaxStartups 200:30:400\\n' >/etc/ssh/sshd_config.d/99-bench-maxstartups.conf && systemctl reload ssh");
  assertAllOk('MaxStartups on the bastion', bastion);
  return r.seconds;
}

async function sshdSessions(bf: BenchFleet, sinceMs: number, untilMs: number): Promise<number | null> {
  // journald gets sshd's lines a moment after they happen; the count's own session starts after `until`.
  const wait = untilMs + 1500 - Date.now();
  if (wait > 0) await sleep(wait);
  const since = (sinceMs / 1000).toFixed(3);
  const until = (untilMs / 1000).toFixed(3);
  // -o short-unix: "<epoch.usec> <host> sshd[pid]: <message>"; the window is filtered to the millisecond.
  const script =
    `journalctl -u ssh -o short-unix --since @${Math.floor(sinceMs / 1000) - 1} --no-pager | ` +
    `awk -v s=${since} -v u=${until} '$1 >= s && $1 <= u && / Starting session: /' | wc -l`;
  try {
    const r = await onHosts(bf.invDir, [SAMPLE], () => script);
    const n = Number(r.get(SAMPLE)?.stdout.trim());
    return Number.isFinite(n) ? n : null;
  } catch (e) {
    log(`could not read sshd's log on ${SAMPLE}: ${(e as Error).message}`);
    return null;
  }
}

async function drift(bf: BenchFleet, tag: string): Promise<void> {
  const res = await onHosts(bf.invDir, bf.nodes.map((n) => n.name), () => `printf '%s\\n' '# edited by hand (bench drift ${tag})' >>/etc/systemd/system/drand.service`);
  assertAllOk('drift', res);
  await sleep(1100); // the drift's own sessions stay out of the run's sshd-log window
}

/** resource id → role, per node: which role each planned change belongs to (compiled offline, as `provision check` does) */
async function rolesOfResources(bf: BenchFleet): Promise<Map<string, Map<string, string>>> {
  const c = await compile(loadInventory(bf.invDir), loadPlaybook(providerPlaybook), { controllerAddresses: [gatewayOf(bf.fleet.network)] });
  return new Map([...c.hosts].map(([name, h]) => [name, h.roleOf]));
}

/** Untimed: every node back to "base converged, drand-node not yet added" (bench/lib/strip.ts), checked by a plan. */
async function stripDrandNode(bf: BenchFleet, roleOf: Map<string, Map<string, string>>): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  assertAllOk('stripping drand-node', await onHosts(bf.invDir, bf.nodes.map((n) => n.name), () => STRIP_DRAND_NODE));
  const stripMs = Date.now() - t0;
  const m = await measure(process.execPath, [cli, 'plan', bf.invDir, '--playbook', providerPlaybook, '--json', '--forks', String(bf.nodes.length)], { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
  let hosts: { host: string; result: string; changes: { id: string }[]; error?: string }[];
  try {
    hosts = (JSON.parse(m.stdout) as { hosts: typeof hosts }).hosts;
  } catch {
    throw new Error(`provision plan after the strip: exit ${m.code}, no JSON: ${(m.stderr || m.stdout).trim().slice(-600)}`);
  }
  const failed = hosts.filter((h) => h.error);
  if (failed.length) throw new Error(`provision plan after the strip failed on ${failed.map((h) => `${h.host}: ${h.error}`).slice(0, 3).join('; ')}`);
  const c = checkStripPlan(hosts, bf.nodes.map((n) => n.name), (h) => roleOf.get(h) ?? new Map());
  if (c.foreign.length || c.untouched.length) {
    throw new Error(
      `after the strip, provision plan must find only drand-node's resources to do: ` +
        `${c.foreign.slice(0, 5).map((f) => `${f.host} ${f.id} (${f.role})`).join(', ') || 'no foreign change'}; nodes with nothing to do: ${c.untouched.join(', ') || 'none'}`,
    );
  }
  const perHost = spread(hosts.filter((h) => bf.nodes.some((n) => n.name === h.host)).map((h) => h.changes.length));
  log(`stripped drand-node from ${bf.nodes.length} node(s) in ${fmtSeconds(stripMs)}; plan: ${perHost.median} drand-node changes/node, nothing of base; left as is: ${c.keptIds.join(', ') || 'nothing'}`);
  return { stripMs, planMs: m.wallMs, changesPerNode: perHost, kept: c.keptIds };
}

const spread = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

async function runProvision(bf: BenchFleet, scenario: Scenario, rep: number, mode: 'apply' | 'plan' = 'apply', timeoutMs = RUN_TIMEOUT_MS): Promise<RunRecord> {
  const n = bf.nodes.length;
  const load1 = os.loadavg()[0]!;
  const t0 = Date.now();
  const m = await measure(process.execPath, [cli, mode, bf.invDir, '--playbook', providerPlaybook, '--json', '--forks', String(n)], { cwd: repo, timeoutMs });
  const t1 = Date.now();
  const rec: RunRecord = { tool: 'provision', scenario, nodes: n, rep, ok: false, wallMs: m.wallMs, cpu: m.cpu, mem: m.mem, sshdExecs: null, changed: spread([0]), load1 };
  try {
    const data = JSON.parse(m.stdout) as { hosts: { host: string; result: string; changes: unknown[]; execs: number; error?: string }[] };
    const hosts = data.hosts.filter((h) => bf.nodes.some((x) => x.name === h.host));
    rec.jsonExecs = spread(hosts.map((h) => h.execs));
    rec.changed = spread(hosts.map((h) => h.changes.length));
    const want = mode === 'plan' || scenario === 'nochange' ? 'unchanged' : 'changed';
    const bad = hosts.filter((h) => h.result !== want);
    if (hosts.length !== n) rec.error = `--json listed ${hosts.length} of ${n} nodes`;
    else if (bad.length) rec.error = `${bad.length} node(s) not "${want}": ${bad.slice(0, 3).map((h) => `${h.host}: ${h.result} ${h.error ?? ''}`).join('; ')}`;
    else if (scenario === 'drift' && rec.changed.max !== 1) rec.error = `expected exactly one change per node, got ${rec.changed.min}..${rec.changed.max}`;
    else rec.ok = m.code === 0;
  } catch {
    rec.error = `exit ${m.code}, no JSON: ${(m.stderr || m.stdout).trim().slice(-600)}`;
    fs.writeFileSync(path.join(work, `provision-failed-${n}-${scenario}-${rep}.log`), `${m.stdout}\n----- stderr\n${m.stderr}`);
  }
  if (m.timedOut) {
    rec.timedOut = true;
    rec.error = `killed after ${Math.round(timeoutMs / 1000)} s (hung): ${rec.error ?? ''}`;
  }
  if (mode === 'apply') rec.sshdExecs = await sshdSessions(bf, t0, t1);
  return rec;
}

let controlSeq = 0;
async function runAnsible(bf: BenchFleet, scenario: Scenario, rep: number, timeoutMs = RUN_TIMEOUT_MS): Promise<RunRecord> {
  const n = bf.nodes.length;
  // Short: a ControlPath socket ("<dir>/jump-<40 hex>.<16 random>" while it is made) must fit the
  // 108 bytes of a Unix socket address; under a worktree's bench/.work it did not, and every
  // Ansible connection failed ("kex_exchange_identification: Connection closed by remote host").
  const controlDir = path.join(os.tmpdir(), `prvb-${process.pid}-${++controlSeq}`);
  const cfg = writeAnsibleCfg(bf, n, controlDir);
  const closeMasters = async () => {
    // ControlPersist masters outlive ansible-playbook; their CPU belongs to the run: close them now.
    for (const s of fs.existsSync(controlDir) ? fs.readdirSync(controlDir) : []) {
      spawnSync('ssh', ['-F', bf.sshConfig, '-o', `ControlPath=${path.join(controlDir, s)}`, '-O', 'exit', 'bench-master'], { stdio: 'ignore', timeout: 10_000 });
    }
  };
  const load1 = os.loadavg()[0]!;
  const t0 = Date.now();
  const m = await measure('ansible-playbook', [ansiblePlaybook, '-e', `bench_repo=${repo}`, '-e', `bench_unit_template=${bf.unitTemplate}`], {
    cwd: bf.ansibleDir,
    env: { ...process.env, ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    cleanup: closeMasters,
    timeoutMs,
  });
  const t1 = Date.now();
  fs.rmSync(controlDir, { recursive: true, force: true });
  const rec: RunRecord = { tool: 'ansible', scenario, nodes: n, rep, ok: false, wallMs: m.wallMs, cpu: m.cpu, mem: m.mem, sshdExecs: null, changed: spread([0]), load1 };
  const recap = new Map<string, { changed: number; failed: number; unreachable: number }>();
  for (const line of m.stdout.split('\n')) {
    const r = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line);
    if (r) recap.set(r[1]!, { changed: Number(r[3]), unreachable: Number(r[4]), failed: Number(r[5]) });
  }
  const hosts = bf.nodes.map((x) => recap.get(x.name));
  if (hosts.some((h) => !h)) rec.error = `exit ${m.code}; PLAY RECAP lists ${recap.size} of ${n} nodes: ${(m.stderr || m.stdout).trim().slice(-600)}`;
  else {
    rec.changed = spread(hosts.map((h) => h!.changed));
    const bad = hosts.filter((h) => h!.failed || h!.unreachable).length;
    if (bad) rec.error = `${bad} node(s) failed or unreachable: ${m.stdout.trim().slice(-800)}`;
    else if (scenario === 'nochange' && rec.changed.max !== 0) rec.error = `a no-change run changed something (changed=${rec.changed.max})`;
    else if (scenario !== 'nochange' && rec.changed.min === 0) rec.error = 'some node reported no change';
    else rec.ok = m.code === 0;
  }
  if (m.timedOut) {
    rec.timedOut = true;
    rec.error = `killed after ${Math.round(timeoutMs / 1000)} s (hung): ${rec.error ?? ''}`;
  }
  if (!rec.ok) fs.writeFileSync(path.join(work, `ansible-failed-${n}-${scenario}-${rep}.log`), m.stdout + m.stderr);
  rec.sshdExecs = await sshdSessions(bf, t0, t1);
  return rec;
}

function describe(r: RunRecord): string {
  const ex = r.tool === 'provision' ? `execs/host ${r.jsonExecs?.median} (sshd ${r.sshdExecs ?? '?'})` : `execs/host (sshd) ${r.sshdExecs ?? '?'}`;
  return (
    `${r.tool.padEnd(9)} ${String(r.nodes).padStart(2)} nodes ${r.scenario.padEnd(8)} #${r.rep + 1}: ${fmtSeconds(r.wallMs)} wall, ` +
    `${fmtSeconds(r.cpu.totalMs)} CPU, ${fmtMB(r.mem.maxRssMB)} max RSS, Σ PSS ${fmtMB(r.mem.peakSumPssMB)}, ${ex}, changed/host ${r.changed.median}` +
    `${r.provisionPlanClean === undefined ? '' : `, provision plan after it: ${r.provisionPlanClean ? 'clean' : 'NOT CLEAN'}`}` +
    ` (load ${r.load1.toFixed(1)})${r.ok ? '' : `  FAILED: ${r.error}`}`
  );
}

async function benchSize(n: number, opts: Opts, records: RunRecord[], boots: { nodes: number; hosts: number; seconds: number }[], setups: Record<string, unknown>[], strips: Record<string, unknown>[]): Promise<void> {
  const bf = writeFleet(work, repo, n);
  current = bf;
  const push = (r: RunRecord) => {
    records.push(r);
    log(describe(r));
  };
  const fr = opts.firstRuns;
  const firstRuns = !fr ? opts.runs : fr.length === 1 ? fr[0]! : fr[opts.sizes.indexOf(n)]!;
  // Order: alternate which tool goes first; the last first apply is provision's, so the no-change
  // runs start on a fleet provision converged (Ansible must then report changed=0 on it).
  const order = (rep: number): Tool[] => (rep % 2 === 0 ? ['ansible', 'provision'] : ['provision', 'ansible']).filter((t) => opts.tools.includes(t as Tool)) as Tool[];
  // Once per size: fresh hosts, then base + drand-node converged by provision, untimed.
  log(`${n} nodes: fresh fleet`);
  const secs = await freshFleet(bf);
  boots.push({ nodes: n, hosts: n + 1, seconds: secs });
  log(`${n + 1} hosts up in ${secs} s; converging base + drand-node (untimed)`);
  const setup = await runProvision(bf, 'first', -1);
  if (!setup.ok) throw new Error(`could not converge the fleet (base + drand-node): ${setup.error}`);
  setups.push({ nodes: n, wallMs: setup.wallMs, execs: setup.jsonExecs, changed: setup.changed });
  log(`converged in ${fmtSeconds(setup.wallMs)} (changes/node ${setup.changed.median})`);
  if (opts.only.includes('first')) {
    const roleOf = await rolesOfResources(bf);
    for (let rep = 0; rep < firstRuns; rep++) {
      for (const tool of order(firstRuns % 2 === 0 ? rep + 1 : rep)) {
        // A first apply that hangs (apt: see bench/lib/aptproxy.ts) is killed after its time limit,
        // recorded as failed, and done again after another strip (twice at most).
        for (let attempt = 1; attempt <= 3; attempt++) {
          checkAbort();
          log(`${n} nodes: drand-node stripped for ${tool}'s first apply #${rep + 1}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
          const strip = await stripDrandNode(bf, roleOf);
          strips.push({ nodes: n, ...strip });
          checkAbort();
          const timeoutMs = (180 + 12 * n) * 1000;
          let r: RunRecord;
          if (tool === 'provision') r = await runProvision(bf, 'first', rep, 'apply', timeoutMs);
          else {
            r = await runAnsible(bf, 'first', rep, timeoutMs);
            // Same state? provision (base + drand-node) must find nothing to change on what Ansible made.
            if (r.ok) {
              const plan = await runProvision(bf, 'first', rep, 'plan');
              r.provisionPlanClean = plan.ok && plan.changed.max === 0;
              if (!r.provisionPlanClean) log(`provision plan after Ansible's apply is not clean: ${plan.error ?? `changes/host ${plan.changed.min}..${plan.changed.max}`}`);
            }
          }
          r.attempt = attempt;
          push(r);
          if (r.ok || !r.timedOut) break;
        }
      }
    }
  }
  for (const scenario of ['nochange', 'drift'] as Scenario[]) {
    if (!opts.only.includes(scenario)) continue;
    for (let rep = 0; rep < opts.runs; rep++) {
      for (const tool of order(rep + 1)) {
        checkAbort();
        if (scenario === 'drift') await drift(bf, `${tool} ${rep + 1}`);
        push(tool === 'provision' ? await runProvision(bf, scenario, rep) : await runAnsible(bf, scenario, rep));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Where provision's time goes, on the largest fleet: a CPU profile of a no-change run, and the
// engine driven with a timing connector (connect vs probe exec per host).
async function profile(n: number): Promise<Record<string, unknown>> {
  const bf = current!;
  const dir = path.join(work, 'prof');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, cli, 'apply', bf.invDir, '--playbook', providerPlaybook, '--json', '--forks', String(n)];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = Date.now() - t0;
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const cpu = file ? analyseProfile(path.join(dir, file)) : null;
  const timing = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [path.join(repo, 'dist/bench/profile.js'), bf.invDir, providerPlaybook, String(n)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b));
    c.on('close', () => resolve(out));
  });
  let phases: unknown = null;
  try {
    phases = JSON.parse(timing);
  } catch {
    phases = { error: timing.slice(-500) };
  }
  return { nodes: n, cpuProfileRun: { wallMs, exit: r.status, profile: file ? path.join(dir, file) : null, ...cpu }, phases };
}

// ---------------------------------------------------------------------------------------------
function summarise(records: RunRecord[], sizes: number[]) {
  const rows: Record<string, unknown>[] = [];
  for (const n of sizes) {
    for (const scenario of SCENARIOS) {
      const pick = (tool: Tool) => records.filter((r) => r.nodes === n && r.scenario === scenario && r.tool === tool && r.rep >= 0 && r.ok);
      const s = (tool: Tool) => {
        const rs = pick(tool);
        if (!rs.length) return null;
        return {
          runs: rs.length,
          wallMs: median(rs.map((r) => r.wallMs)),
          wallMsMin: Math.min(...rs.map((r) => r.wallMs)),
          wallMsMax: Math.max(...rs.map((r) => r.wallMs)),
          cpuMs: median(rs.map((r) => r.cpu.totalMs)),
          maxRssMB: median(rs.map((r) => r.mem.maxRssMB)),
          peakSumRssMB: median(rs.map((r) => r.mem.peakSumRssMB)),
          peakSumPssMB: rs.some((r) => r.mem.peakSumPssMB === null) ? null : median(rs.map((r) => r.mem.peakSumPssMB!)),
          peakProcs: Math.max(...rs.map((r) => r.mem.peakProcs)),
          sshdExecs: median(rs.filter((r) => r.sshdExecs !== null).map((r) => r.sshdExecs!)),
          jsonExecs: tool === 'provision' ? median(rs.map((r) => r.jsonExecs?.median ?? NaN)) : undefined,
          load1: median(rs.map((r) => r.load1)),
        };
      };
      const p = s('provision');
      const a = s('ansible');
      if (p || a) rows.push({ nodes: n, scenario, provision: p, ansible: a, speedup: p && a ? a.wallMs / p.wallMs : null });
    }
  }
  return rows;
}

function renderTable(rows: ReturnType<typeof summarise>): string {
  type S = { runs: number; wallMs: number; cpuMs: number; maxRssMB: number; peakSumRssMB: number; peakSumPssMB: number | null; sshdExecs: number; jsonExecs?: number } | null;
  const cell = (x: S, f: (s: NonNullable<S>) => string) => (x ? f(x) : '—');
  return table(
    ['nodes', 'run', 'provision wall', 'Ansible wall', 'speed-up', 'provision CPU', 'Ansible CPU', 'provision mem', 'Ansible mem Σ PSS (Σ RSS)', 'execs/host provision', 'execs/host Ansible', 'runs'],
    rows.map((r) => {
      const p = r.provision as S;
      const a = r.ansible as S;
      return [
        String(r.nodes),
        SCENARIO_LABEL[r.scenario as Scenario],
        cell(p, (s) => fmtSeconds(s.wallMs)),
        cell(a, (s) => fmtSeconds(s.wallMs)),
        r.speedup ? `${(r.speedup as number).toFixed(1)}×` : '—',
        cell(p, (s) => fmtSeconds(s.cpuMs)),
        cell(a, (s) => fmtSeconds(s.cpuMs)),
        cell(p, (s) => fmtMB(s.maxRssMB)),
        cell(a, (s) => `${fmtMB(s.peakSumPssMB)} (${fmtMB(s.peakSumRssMB)})`),
        cell(p, (s) => `${s.jsonExecs}${Number.isFinite(s.sshdExecs) ? ` (sshd ${s.sshdExecs})` : ''}`),
        cell(a, (s) => (Number.isFinite(s.sshdExecs) ? String(s.sshdExecs) : '—')),
        `${p?.runs ?? 0}/${a?.runs ?? 0}`,
      ];
    }),
  );
}

async function main(): Promise<number> {
  const opts = parseOpts(process.argv.slice(2));
  ensureTools();
  fs.mkdirSync(work, { recursive: true });
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm run bench does)`);
  const info = machine();
  log(`machine: ${JSON.stringify(info)}`);
  const records: RunRecord[] = [];
  const boots: { nodes: number; hosts: number; seconds: number }[] = [];
  const setups: Record<string, unknown>[] = [];
  const strips: Record<string, unknown>[] = [];
  let prof: Record<string, unknown> | null = null;
  const started = Date.now();
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const write = () => {
    const rows = summarise(records, sizes);
    const out = { machine: { ...info, load1AtEnd: round(os.loadavg()[0]!, 2) }, options: opts, minutes: round((Date.now() - started) / 60000, 1), summary: rows, boots, setups, strips, profile: prof, aptProxy: aptProxyStats, runs: records };
    fs.writeFileSync(path.join(repo, 'bench/results.json'), JSON.stringify(out, null, 2) + '\n');
    fs.writeFileSync(path.join(work, 'table.md'), renderTable(rows) + '\n');
    return rows;
  };
  try {
    // Leftovers of an interrupted bench (any size): down and wiped first.
    await downWithRetry(writeFleet(work, repo, Math.max(...sizes)).fleet);
    // In the order given (--sizes 50,20,10,1 gets the big figures first); results.json after each size.
    for (const n of opts.sizes) {
      checkAbort();
      await benchSize(n, opts, records, boots, setups, strips);
      if (opts.profile && opts.tools.includes('provision') && n === Math.max(...sizes)) {
        checkAbort();
        log(`profiling provision on ${n} nodes`);
        prof = await profile(n);
      }
      write();
    }
  } finally {
    const rows = write();
    if (!opts.keep || aborted) await teardown();
    console.log(renderTable(rows));
    const b20 = boots.filter((b) => b.nodes === 20).map((b) => b.seconds);
    if (b20.length) console.log(`\nlab: 21 hosts (bastion + 20 nodes) up from the cached base, fresh disks: median ${median(b20)} s (${b20.join(', ')})`);
    console.log(`\nresults: ${path.join(repo, 'bench/results.json')}`);
  }
  return records.every((r) => r.ok) ? 0 : 1;
}

process.on('SIGINT', () => {
  if (aborted) {
    log('second interrupt: bringing the fleet down now');
    void teardown().finally(() => process.exit(130));
    return;
  }
  aborted = true;
  log('interrupted: stopping the running measurement, then the fleet goes down (^C again: now)');
  killAllMeasured();
});
process.on('SIGTERM', () => {
  aborted = true;
  killAllMeasured();
  void teardown().finally(() => process.exit(143));
});

main().then(
  (code) => process.exit(code),
  async (e: Error) => {
    console.error(`bench: ${e.message}`);
    await teardown();
    process.exit(aborted ? 130 : 1);
  },
);
