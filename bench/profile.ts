// Where a provision run's wall time goes, per phase and per host: the engine's own run() driven
// with a timing Connector (time to connect to each host, time of each remote exec), then the same
// probe scripts sent over plain OpenSSH (the floor), and one host's probe alone (no contention).
//   node dist/bench/profile.js INVENTORY PLAYBOOK FORKS   → JSON on stdout
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const T0 = performance.now(); // ms since this process started: node's own start-up is in it
const [invDir, playbookFile, forksArg] = process.argv.slice(2);
if (!invDir || !playbookFile) {
  console.error('usage: node dist/bench/profile.js INVENTORY PLAYBOOK [FORKS]');
  process.exit(1);
}
const { loadInventory } = await import('../src/inventory/load.js');
const { loadPlaybook } = await import('../src/playbook/load.js');
const { compile } = await import('../src/plan/compile.js');
const { run } = await import('../src/apply/run.js');
const { buildProbeScript } = await import('../src/plan/probe-script.js');
const { Transport } = await import('../src/transport/index.js');
const { gatewayOf } = await import('../src/inventory/lab-network.js');
const tImported = performance.now();

const inventory = loadInventory(invDir);
const playbook = loadPlaybook(path.resolve(playbookFile));
const tLoaded = performance.now();
const compiled = await compile(inventory, playbook, { controllerAddresses: inventory.lab ? [gatewayOf(inventory.lab.network)] : [] });
const tCompiled = performance.now();
const forks = Number(forksArg ?? compiled.hosts.size);

interface HostTiming {
  host: string;
  connectStart?: number;
  connectEnd?: number;
  execs: { start: number; end: number; bytesIn: number; bytesOut: number }[];
}
const hosts = new Map<string, HostTiming>();
const timingOf = (h: string) => {
  let t = hosts.get(h);
  if (!t) hosts.set(h, (t = { host: h, execs: [] }));
  return t;
};
const transport = new Transport(inventory, {
  agent: null,
  onEvent: (e) => {
    if (e.type === 'connecting') timingOf(e.host).connectStart = performance.now();
    if (e.type === 'connected') timingOf(e.host).connectEnd = performance.now();
  },
});
/** A connector that records every exec's timing for the profile (one per Transport). */
const timedConnector = (t: InstanceType<typeof Transport>) => ({
  async connect(host: string) {
    const conn = await t.connect(host);
    return {
      get execCount() {
        return conn.execCount;
      },
      async run(script: string) {
        const start = performance.now();
        const r = await conn.run(script);
        timingOf(host).execs.push({ start, end: performance.now(), bytesIn: r.stdout.length, bytesOut: script.length });
        return r;
      },
    };
  },
  testFreshLogin: (host: string) => t.testFreshLogin(host),
});
const connector = timedConnector(transport);
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
const tRun = performance.now();
const result = await run(compiled, connector, { mode: 'apply', forks, execTimeoutMs: 600_000, emit: () => {} });
const tRunEnd = performance.now();
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
await transport.close();
const tClosed = performance.now();

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10 : NaN;
};
const stats = (xs: number[]) => ({ p50: q(xs, 0.5), p90: q(xs, 0.9), max: q(xs, 1), n: xs.length });
const nodes = [...hosts.values()].filter((h) => compiled.hosts.has(h.host));
const jumpHosts = [...hosts.values()].filter((h) => !compiled.hosts.has(h.host));
const probe = nodes.map((h) => h.execs[0]).filter((e): e is NonNullable<typeof e> => !!e);

// The floor: the same probe scripts over plain OpenSSH (one ssh per host, ProxyJump via the bastion,
// the bench's ssh_config), all hosts at once.
const sshConfig = path.join(path.dirname(path.resolve(invDir)), 'ansible', 'ssh_config');
const sshRun = (address: string, script: string) =>
  new Promise<number>((resolve) => {
    const t = performance.now();
    const c = spawn('ssh', ['-F', sshConfig, address, 'sh -s'], { stdio: ['pipe', 'ignore', 'ignore'] });
    c.stdin.end(`{ :\n${script}\n} </dev/null\n`);
    c.on('close', () => resolve(performance.now() - t));
  });
const scripts = [...compiled.hosts.values()].map((ch) => ({
  address: ch.host.address,
  script: buildProbeScript({ resources: ch.resources, health: ch.health, diskPaths: ch.diskPaths, withFacts: true }).script,
}));
const tFloor = performance.now();
const floorPer = await Promise.all(scripts.map((s) => sshRun(s.address, s.script)));
const floorMs = performance.now() - tFloor;
// One host's probe alone, three times: what the probe costs without 50 hosts sharing the CPUs.
const alone: number[] = [];
for (let i = 0; i < 3; i++) alone.push(await sshRun(scripts[0]!.address, scripts[0]!.script));
const aloneTrue: number[] = [];
for (let i = 0; i < 3; i++) aloneTrue.push(await sshRun(scripts[0]!.address, 'true'));

// A repair run, timed the same way: drand.service edited on every node, then apply.
const drifter = new Transport(inventory, { agent: null });
await Promise.all(
  [...compiled.hosts.keys()].map(async (h) => {
    const c = await drifter.connect(h);
    await c.run(`printf '%s\\n' '# edited by hand (bench profile)' >>/etc/systemd/system/drand.service`);
  }),
);
await drifter.close();
await new Promise((r) => setTimeout(r, 1000));
hosts.clear();
const transport2 = new Transport(inventory, {
  agent: null,
  onEvent: (e) => {
    if (e.type === 'connecting') timingOf(e.host).connectStart = performance.now();
    if (e.type === 'connected') timingOf(e.host).connectEnd = performance.now();
  },
});
// the drift run's own transport also serves its fresh-login tests (before, they went to the first one)
const connector2 = timedConnector(transport2);
const tDrift = performance.now();
const drift = await run(compiled, connector2, { mode: 'apply', forks, execTimeoutMs: 600_000, emit: () => {} });
const tDriftEnd = performance.now();
await transport2.close();
const driftNodes = [...hosts.values()].filter((h) => compiled.hosts.has(h.host));
const maxExecs = Math.max(...driftNodes.map((h) => h.execs.length));
const driftExecs = Array.from({ length: maxExecs }, (_, i) => {
  const xs = driftNodes.map((h) => h.execs[i]).filter((e): e is NonNullable<typeof e> => !!e);
  return { exec: i + 1, ...stats(xs.map((e) => e.end - e.start)), lastEndMs: Math.round(Math.max(...xs.map((e) => e.end)) - tDrift) };
});

const r1 = (x: number) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify(
    {
      hosts: compiled.hosts.size,
      forks,
      phasesMs: {
        nodeStartAndImports: r1(tImported),
        loadInventoryAndPlaybook: r1(tLoaded - tImported),
        compile: r1(tCompiled - tLoaded),
        run: r1(tRunEnd - tRun),
        closeConnections: r1(tClosed - tRunEnd),
        total: r1(tClosed),
      },
      run: {
        cpuUserMs: r1(cpu.user / 1000),
        cpuSysMs: r1(cpu.system / 1000),
        eventLoopUtilization: Math.round(elu.utilization * 100) / 100,
        firstConnectStartMs: r1(Math.min(...nodes.map((h) => h.connectStart ?? Infinity)) - tRun),
        lastConnectEndMs: r1(Math.max(...nodes.map((h) => h.connectEnd ?? 0)) - tRun),
        lastProbeEndMs: r1(Math.max(...probe.map((e) => e.end)) - tRun),
      },
      jumpHostConnectMs: jumpHosts.map((h) => ({ host: h.host, ms: r1((h.connectEnd ?? NaN) - (h.connectStart ?? NaN)) })),
      connectMs: stats(nodes.map((h) => (h.connectEnd ?? NaN) - (h.connectStart ?? NaN))),
      probeExecMs: stats(probe.map((e) => e.end - e.start)),
      probeScriptBytes: stats(probe.map((e) => e.bytesOut)),
      probeOutputBytes: stats(probe.map((e) => e.bytesIn)),
      execsPerHost: stats(nodes.map((h) => h.execs.length)),
      results: result.results.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {}),
      repairRun: {
        wallMs: r1(tDriftEnd - tDrift),
        results: drift.results.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {}),
        lastConnectEndMs: r1(Math.max(...driftNodes.map((h) => h.connectEnd ?? 0)) - tDrift),
        /** per exec of a host, in order (probe, apply, handler, verification…): its duration over hosts */
        execs: driftExecs,
      },
      openssh: {
        allHostsProbeMs: r1(floorMs),
        perHostMs: stats(floorPer),
        oneHostAloneProbeMs: alone.map(r1),
        oneHostAloneTrueMs: aloneTrue.map(r1),
      },
    },
    null,
    2,
  ),
);
process.exit(0);
