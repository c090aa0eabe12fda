// What two independent auditors from Debian make of the site: every host of inventory/lab, booted as
// a virtual machine (lab.machine: vm — its own kernel and file systems, what a container cannot
// give) and converged with playbooks/site.yaml, then, one host at a time, `lynis audit system
// --quick` (Debian's lynis, installed on the host for the measurement only) and `ssh-audit` (from
// the bastion: the nodes admit SSH only from it; the bastion itself from the controller).
// Prints one JSON document: per host its roles, release, lynis version, hardening index, points,
// warnings, and every test that lost points (docs/hardening.md is written from it).
//   flock /tmp/provision-lab.lock node dist/bench/audit.js [--hosts a,b] [--os debian-13] [--keep]
// The inventory is a copy of inventory/lab on its own bridge (prvaudit0, 10.213.88.0/24), made in
// a temp directory; its lab secrets are generated there by `lab up`. Emulated VMs are slow: the
// first apply of the whole site takes tens of minutes on a 2-core machine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { onHosts } from './lib/remote.js';
import { loadInventory } from '../src/inventory/load.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { matchHosts } from '../src/inventory/pattern.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'dist/src/cli/main.js');
const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const osPin = opt('--os');
const keep = args.includes('--keep');
const log = (m: string) => console.error(`[audit ${new Date().toISOString().slice(11, 19)}] ${m}`);

/**
 * inventory/lab, moved to the audit bridge and booted as VMs: optionally only some hosts (groups
 * keep those), optionally every host on one release.
 */
function auditInventory(only: string[] | undefined): string {
  const dir = path.join(os.tmpdir(), 'provision-audit-vm');
  if (!fs.existsSync(path.join(dir, 'hosts.yaml'))) {
    fs.cpSync(path.join(repo, 'inventory/lab'), dir, { recursive: true, filter: (f) => !/known_hosts$|\.age$|recipients$/.test(f) });
  }
  const moved = (text: string) => text.replaceAll('10.213.7.', '10.213.88.');
  const doc = YAML.parse(moved(fs.readFileSync(path.join(repo, 'inventory/lab/hosts.yaml'), 'utf8'))) as {
    lab: Record<string, unknown>;
    defaults: { spec: Record<string, unknown> };
    hosts: Record<string, { spec?: Record<string, unknown> }>;
    groups: Record<string, { hosts?: string[] }>;
  };
  doc.lab = { ...doc.lab, bridge: 'prvaudit0', network: '10.213.88.0/24', machine: 'vm' };
  if (only) {
    for (const h of Object.keys(doc.hosts)) if (!only.includes(h)) delete doc.hosts[h];
    for (const g of Object.values(doc.groups)) if (g.hosts) g.hosts = g.hosts.filter((h) => only.includes(h));
  }
  if (osPin) {
    doc.defaults.spec.os = osPin;
    for (const h of Object.values(doc.hosts)) delete h.spec?.os;
  }
  fs.writeFileSync(path.join(dir, 'hosts.yaml'), `# bench/audit.ts: inventory/lab as VMs on the audit bridge\n${YAML.stringify(doc)}`);
  for (const f of fs.readdirSync(path.join(dir, 'group_vars'))) {
    let text = moved(fs.readFileSync(path.join(repo, 'inventory/lab/group_vars', f), 'utf8'));
    // a VM is not a container, so drand-node checks its disk: the lab's disk images are not dm-crypt
    if (f === 'drand_nodes.yaml') text = text.replace(/^drand-node:\n/m, 'drand-node:\n  encrypted_disk: warn   # bench/audit.ts: the lab VM disks are not dm-crypt\n');
    fs.writeFileSync(path.join(dir, 'group_vars', f), text);
  }
  return dir;
}

function provision(...a: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...a], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`provision ${a.join(' ')}: exit ${r.status}\n${r.stdout.slice(-3000)}`);
  return r.stdout;
}

/** Points a test lost: "Performing test ID X" then "assigned partial number of hardening points (a of b)". */
export function lostPoints(lynisLog: string): { test: string; lost: number }[] {
  const lost = new Map<string, number>();
  let current = '(before any test)';
  for (const line of lynisLog.split('\n')) {
    const t = /Performing test ID ([A-Z]+-\d+)/.exec(line);
    if (t) current = t[1]!;
    const p = /assigned partial number of hardening points \((\d+) of (\d+)\)/.exec(line);
    if (p) lost.set(current, (lost.get(current) ?? 0) + Number(p[2]) - Number(p[1]));
  }
  return [...lost].filter(([, n]) => n > 0).map(([test, n]) => ({ test, lost: n })).sort((a, b) => b.lost - a.lost || a.test.localeCompare(b.test));
}

const LYNIS = [
  'export DEBIAN_FRONTEND=noninteractive',
  'apt-get -q -y install lynis >/dev/null 2>&1 || { echo "lynis: apt-get install failed" >&2; exit 1; }',
  // before the audit: any lynis run starts a new report file, `show version` too
  'echo "== version"; lynis show version',
  'lynis audit system --quick --no-colors >/dev/null 2>&1',
  'echo "== report"; grep -E "^(hardening_index|warning\\[\\])=" /var/log/lynis-report.dat',
  'echo "== log"; cat /var/log/lynis.log',
].join('\n');

const section = (text: string, name: string) => (text.split(`== ${name}\n`)[1] ?? '').split('\n== ')[0]!;

async function main(): Promise<void> {
  const only = opt('--hosts')?.split(',');
  const inv = auditInventory(only);
  log(`inventory ${inv}`);
  const invLoaded = () => loadInventory(inv);
  provision('lab', 'up', inv);
  const t0 = Date.now();
  const applied = JSON.parse(provision('apply', inv, '--json')) as { hosts: { host: string; result: string; error?: string }[] };
  const applySeconds = Math.round((Date.now() - t0) / 1000);
  log(`first apply: ${applySeconds} s: ${applied.hosts.map((h) => `${h.host} ${h.result}`).join(', ')}`);
  const again = JSON.parse(provision('plan', inv, '--json')) as { hosts: { host: string; result: string; changes: unknown[] }[] };
  const playbook = loadPlaybook(path.join(repo, 'playbooks/site.yaml'));
  const inventory = invLoaded();
  const names = [...inventory.hosts.keys()];
  const rolesOf = (h: string) => [...new Set(playbook.plays.filter((p) => matchHosts(inventory, p.pattern).includes(h)).flatMap((p) => p.roles.map((r) => r.name)))];
  const bastion = [...inventory.hosts.values()].find((h) => !h.jump)!;
  // ssh-audit on the bastion for the nodes (they admit SSH only from it)
  const sshAuditAt = (address: string) => `ssh-audit -n ${address} 2>&1 | grep -E '\\[(fail|warn)\\]' || true`;
  await onHosts(inv, [bastion.name], () => 'DEBIAN_FRONTEND=noninteractive apt-get -q -y install ssh-audit >/dev/null 2>&1');
  // two hosts at a time: lynis is a shell script, one emulated core each on a 2-core machine
  const audit1 = async (name: string) => {
    const h = inventory.hosts.get(name)!;
    const t = Date.now();
    const r = (await onHosts(inv, [name], () => LYNIS)).get(name)!;
    if (r.code !== 0) throw new Error(`lynis on ${name}: exit ${r.code}: ${r.stderr.slice(-500)}`);
    const report = section(r.stdout, 'report');
    const lynisLog = section(r.stdout, 'log');
    const points = [...lynisLog.matchAll(/Currently having (\d+) points \(out of (\d+)\)/g)].pop();
    const audit = name === bastion.name
      ? spawnSync('sh', ['-c', sshAuditAt(h.address)], { encoding: 'utf8' }).stdout
      : (await onHosts(inv, [bastion.name], () => sshAuditAt(h.address))).get(bastion.name)!.stdout;
    const findings = audit.split('\n').filter(Boolean);
    const row = {
      host: name,
      roles: rolesOf(name),
      os: h.spec.os,
      plan: again.hosts.find((x) => x.host === name)?.changes.length,
      lynis: section(r.stdout, 'version').trim(),
      index: Number(/hardening_index=(\d+)/.exec(report)?.[1]),
      points: points ? `${points[1]}/${points[2]}` : undefined,
      warnings: report.split('\n').filter((l) => l.startsWith('warning[]=')).map((l) => l.slice('warning[]='.length)),
      lost: lostPoints(lynisLog),
      sshAudit: { fail: findings.filter((l) => l.includes('[fail]')), warn: findings.filter((l) => l.includes('[warn]')) },
      seconds: Math.round((Date.now() - t) / 1000),
    };
    log(`${name}: lynis ${row.lynis} index ${row.index} (${row.points}), ssh-audit ${row.sshAudit.fail.length} fail ${row.sshAudit.warn.length} warn, ${row.seconds} s`);
    return row;
  };
  const results: Awaited<ReturnType<typeof audit1>>[] = [];
  const queue = [...names];
  await Promise.all([0, 1].map(async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) results.push(await audit1(n));
  }));
  results.sort((a, b) => names.indexOf(a.host) - names.indexOf(b.host));
  console.log(JSON.stringify({ date: new Date().toISOString(), inventory: 'inventory/lab as VMs', os: osPin ?? 'as inventory/lab', applySeconds, hosts: results }, null, 2));
  if (!keep) provision('lab', 'down', inv, '--wipe');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
