// What reading the configuration in effect costs on a no-op probe, measured ON a lab host: the
// host's whole probe script (one exec) with and without the in-effect reads — sshd -T for the
// login user and the sshd_config.d / sudoers.d scans; and the unit probe's one `systemctl show`
// with the compared properties and DropInPaths against the earlier NeedDaemonReload-only call;
// on the bastion (ops-1), the two pam-stack reads alone.
// Each variant runs RUNS times on the host, interleaved in rounds (bench/lib/probe-timing.ts).
//   provision lab up test/fixtures/e2e/in-effect && provision apply test/fixtures/e2e/in-effect --playbook …/playbook.yaml
//   node dist/bench/in-effect.js [RUNS]       (under flock /tmp/provision-lab.lock, like every lab use)
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadInventory } from '../src/inventory/load.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { compile } from '../src/plan/compile.js';
import { buildProbeScript } from '../src/plan/probe-script.js';
import { parseTimings, timingScript } from './lib/probe-timing.js';

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
  const names = Object.keys(variants);
  const out = onHost(ch.host.address, ch.host.user, timingScript(Object.values(variants), RUNS, ROUNDS));
  for (const t of parseTimings(names, out, RUNS)) console.log(`${name} ${t.name.padEnd(10)} per run: wall ${t.wallMs.toFixed(1)} ms, host CPU ${t.cpuMs.toFixed(1)} ms  (${RUNS} runs)`);
}
