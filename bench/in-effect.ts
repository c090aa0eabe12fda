// What reading the configuration in effect costs on a no-op probe, measured ON a lab host: the
// host's whole probe script (one exec) with and without the in-effect reads — sshd -T for the
// login user and the sshd_config.d / sudoers.d scans; and the unit probe's one `systemctl show`
// with the compared properties and DropInPaths against the earlier NeedDaemonReload-only call;
// on the bastion (ops-1), the two pam-stack reads alone.
// Each variant runs RUNS times on the host, interleaved in rounds; bash's `times` gives the CPU
// (user + sys) of the runs, `date +%s%N` the wall time.
//   provision lab up test/fixtures/e2e/in-effect && provision apply test/fixtures/e2e/in-effect --playbook …/playbook.yaml
//   node dist/bench/in-effect.js [RUNS]       (under flock /tmp/provision-lab.lock, like every lab use)
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadInventory } from '../src/inventory/load.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { compile } from '../src/plan/compile.js';
import { buildProbeScript } from '../src/plan/probe-script.js';
import { sh } from '../src/shell/quote.js';

const RUNS = Number(process.argv[2] ?? 40);
const ROUNDS = 4;
const inv = path.resolve('test/fixtures/e2e/in-effect');
const knownHosts = path.join(inv, 'known_hosts');
const IN_EFFECT = new Set(['conf-dir', 'sshd-effective']);

function onHost(address: string, user: string, script: string): string {
  const r = spawnSync(
    'ssh',
    ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-i', '/var/lib/provision/lab/id_ed25519', `${user}@${address}`, user === 'root' ? 'bash -s' : 'sudo -n bash -s'],
    { input: script, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`${address}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** bash on the host: each variant's script in a file, run RUNS times in ROUNDS interleaved rounds; prints "name wall_ms cpu_ms" per run */
function measure(variants: Record<string, string>): string {
  const lines = ['set -e', 'd=$(mktemp -d)', 'clk=$(getconf CLK_TCK)'];
  for (const [name, script] of Object.entries(variants)) lines.push(`printf '%s' ${sh(Buffer.from(script).toString('base64'))} | base64 -d >"$d/${name}"`);
  lines.push(
    `cpu() { read -r _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ cu cs _ </proc/$$/stat; echo $((cu + cs)); }`,
    `for round in $(seq ${ROUNDS}); do for v in ${Object.keys(variants).join(' ')}; do`,
    `  c0=$(cpu); t0=$(date +%s%N)`,
    `  for i in $(seq ${RUNS / ROUNDS}); do sh -s <"$d/$v" >/dev/null 2>&1 || true; done`,
    `  t1=$(date +%s%N); c1=$(cpu)`,
    `  echo "$v $(( (t1 - t0) / 1000000 )) $(( (c1 - c0) * 1000 / clk ))"`,
    `done; done`,
    `rm -rf "$d"`,
  );
  return lines.join('\n') + '\n';
}

const compiled = await compile(loadInventory(inv), loadPlaybook(path.join(inv, 'playbook.yaml')), { controllerAddresses: ['10.213.93.1'] });
for (const [name, ch] of compiled.hosts) {
  const probe = (keep: (t: string) => boolean) =>
    buildProbeScript({ resources: ch.resources.filter((r) => keep(r.type)), health: [], diskPaths: ['/'], withFacts: true }).script;
  const unit = ch.resources.find((r) => r.type === 'systemd-unit');
  const variants: Record<string, string> = {
    full: probe(() => true),
    without: probe((t) => !IN_EFFECT.has(t)),
    sshdT: buildProbeScript({ resources: ch.resources.filter((r) => r.type === 'sshd-effective'), health: [], diskPaths: [], withFacts: false }).script,
    // the PAM stacks a bastion reads in effect (its service files and the common-* they include)
    ...(ch.resources.some((r) => r.type === 'pam-stack')
      ? { pam: buildProbeScript({ resources: ch.resources.filter((r) => r.type === 'pam-stack'), health: [], diskPaths: [], withFacts: false }).script }
      : {}),
    ...(unit
      ? {
          unitNow: unit.probe(),
          // the unit probe before this change: the file probe and NeedDaemonReload alone
          unitBefore: unit.probe().replace(/o=\$\(systemctl show -p [^ ]+ /, 'o=$(systemctl show -p NeedDaemonReload ').replace(/while IFS=[\s\S]*?done\nfi/, `printf '%s\\n' "$o"\nfi`),
        }
      : {}),
  };
  const out = onHost(ch.host.address, ch.host.user, measure(variants));
  const sum = new Map<string, { wall: number; cpu: number }>();
  for (const line of out.trim().split('\n')) {
    const [v, wall, cpu] = line.split(' ');
    const s = sum.get(v!) ?? { wall: 0, cpu: 0 };
    sum.set(v!, { wall: s.wall + Number(wall), cpu: s.cpu + Number(cpu) });
  }
  for (const [v, s] of sum) console.log(`${name} ${v.padEnd(10)} per run: wall ${(s.wall / RUNS).toFixed(1)} ms, host CPU ${(s.cpu / RUNS).toFixed(1)} ms  (${RUNS} runs)`);
}
