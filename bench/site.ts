// The whole site: inventory/lab with playbooks/site.yaml (what `sudo npm run demo` converges: a
// bastion, a monitoring host, a snapshot server, three drand nodes, an HTTP relay; Debian 12 and 13).
// Boots the site's fleet on fresh disks (bridge prvlab0, 10.213.7.0/24), times its first apply once,
// then RUNS no-op applies: wall, controller CPU and max RSS (bench/lib/measure.ts), execs per host
// from --json — every host must be "unchanged" at exactly 1 exec. Brings the fleet down and wipes it.
//   flock /tmp/provision-lab.lock node dist/bench/site.js [RUNS]      (as root; prints JSON)
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type Measured } from './lib/measure.js';
import { median, round } from './lib/stats.js';
import { onHosts } from './lib/remote.js';
import { loadInventory } from '../src/inventory/load.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { compile } from '../src/plan/compile.js';
import { buildProbeScript } from '../src/plan/probe-script.js';
import { parseTimings, timingScript } from './lib/probe-timing.js';

const RUNS = Number(process.argv[2] ?? 5);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'dist/src/cli/main.js');
const inv = 'inventory/lab';
const log = (m: string) => console.error(`[site ${new Date().toISOString().slice(11, 19)}] ${m}`);

function lab(...args: string[]): void {
  const r = spawnSync(process.execPath, [cli, 'lab', ...args], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`provision lab ${args.join(' ')}: exit ${r.status}`);
}

interface HostResult {
  host: string;
  result: string;
  execs: number;
  changes: unknown[];
  error?: string;
}

async function apply(what: string, expect: 'changed' | 'unchanged'): Promise<{ m: Measured; hosts: HostResult[]; load1: number }> {
  const load1 = os.loadavg()[0]!;
  const m = await measure(process.execPath, [cli, 'apply', inv, '--json'], { cwd: repo, timeoutMs: 30 * 60_000 });
  let hosts: HostResult[];
  try {
    hosts = (JSON.parse(m.stdout) as { hosts: HostResult[] }).hosts;
  } catch {
    throw new Error(`${what}: exit ${m.code}, no JSON: ${(m.stderr || m.stdout).slice(-800)}`);
  }
  const bad = hosts.filter((h) => h.error || (expect === 'unchanged' && (h.result !== 'unchanged' || h.execs !== 1)));
  if (m.code !== 0 || bad.length) throw new Error(`${what}: exit ${m.code}; ${bad.map((h) => `${h.host}: ${h.result}, ${h.execs} execs ${h.error ?? ''}`).join('; ')}`);
  log(`${what}: ${(m.wallMs / 1000).toFixed(2)} s wall, ${(m.cpu.totalMs / 1000).toFixed(2)} s CPU, ${Math.round(m.mem.maxRssMB)} MB max RSS, execs ${hosts.map((h) => `${h.host}=${h.execs}`).join(' ')} (load ${load1.toFixed(1)})`);
  return { m, hosts, load1 };
}

/**
 * Where a no-op probe's host time goes: each resource's probe section of one host, and the facts,
 * run `runs` times ON the host (one SSH exec for all; bench/lib/probe-timing.ts). Summed per
 * resource type, largest first.
 */
async function probeCost(hostName: string, runs: number): Promise<Record<string, unknown>> {
  const c = await compile(loadInventory(inv), loadPlaybook(path.join(repo, 'playbooks/site.yaml')), { controllerAddresses: ['10.213.7.1'] });
  const ch = c.hosts.get(hostName);
  if (!ch) throw new Error(`${hostName} is not in ${inv}`);
  const parts: [string, string][] = [['facts', buildProbeScript({ resources: [], health: [], diskPaths: ch.diskPaths, withFacts: true }).script]];
  ch.resources.forEach((r) => parts.push([`${r.type} ${r.id}`, buildProbeScript({ resources: [r], health: [], diskPaths: [], withFacts: false }).script]));
  const full = buildProbeScript({ resources: ch.resources, health: [], diskPaths: ch.diskPaths, withFacts: true, extras: ch.extras }).script;
  parts.push(['(whole probe)', full]);
  const r = (await onHosts(inv, [hostName], () => timingScript(parts.map(([, script]) => script), runs))).get(hostName)!;
  if (r.code !== 0) throw new Error(`probe cost on ${hostName}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
  const per = parseTimings(parts.map(([what]) => what), r.stdout, runs).map(({ name, ...t }) => ({ what: name, ...t }));
  const byType = new Map<string, { n: number; wallMs: number; cpuMs: number }>();
  for (const p of per.filter((x) => x.what !== '(whole probe)')) {
    const t = p.what.split(' ')[0]!;
    const s = byType.get(t) ?? { n: 0, wallMs: 0, cpuMs: 0 };
    byType.set(t, { n: s.n + 1, wallMs: s.wallMs + p.wallMs, cpuMs: s.cpuMs + p.cpuMs });
  }
  const rnd = <T extends { wallMs: number; cpuMs: number }>(x: T) => ({ ...x, wallMs: round(x.wallMs, 1), cpuMs: round(x.cpuMs, 1) });
  return {
    host: hostName,
    runs,
    resources: ch.resources.length,
    scriptBytes: full.length,
    whole: rnd(per.find((p) => p.what === '(whole probe)')!),
    byType: [...byType].map(([type, s]) => rnd({ type, ...s })).sort((a, b) => b.wallMs - a.wallMs),
    top: per.filter((p) => p.what !== '(whole probe)').sort((a, b) => b.wallMs - a.wallMs).slice(0, 10).map(rnd),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the lab boots containers');
  lab('down', inv, '--wipe'); // fresh disks: the first apply is the site's first
  const t0 = Date.now();
  lab('up', inv, '--install-deps');
  const bootMs = Date.now() - t0;
  try {
    const first = await apply('first apply', 'changed');
    const noop: Awaited<ReturnType<typeof apply>>[] = [];
    for (let i = 0; i < RUNS; i++) noop.push(await apply(`no-op #${i + 1}`, 'unchanged'));
    const cost = await probeCost('drand-1', 10);
    log(`probe cost on drand-1: ${JSON.stringify(cost)}`);
    const med = (f: (r: (typeof noop)[number]) => number) => round(median(noop.map(f)), 3);
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          hosts: first.hosts.length,
          bootMs,
          first: { wallMs: round(first.m.wallMs), cpuMs: round(first.m.cpu.totalMs), maxRssMB: round(first.m.mem.maxRssMB), execs: Object.fromEntries(first.hosts.map((h) => [h.host, h.execs])), changes: Object.fromEntries(first.hosts.map((h) => [h.host, h.changes.length])), load1: round(first.load1, 2) },
          probeCost: cost,
          noop: {
            runs: noop.length,
            wallMs: med((r) => r.m.wallMs),
            wallMsAll: noop.map((r) => round(r.m.wallMs)),
            cpuMs: med((r) => r.m.cpu.totalMs),
            maxRssMB: med((r) => r.m.mem.maxRssMB),
            execsPerHost: [...new Set(noop.flatMap((r) => r.hosts.map((h) => h.execs)))],
            load1: noop.map((r) => round(r.load1, 2)),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    lab('down', inv, '--wipe');
  }
}

main().catch((e: Error) => {
  console.error(`site bench: ${e.message}`);
  process.exit(1);
});
