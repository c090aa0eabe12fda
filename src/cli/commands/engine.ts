// check / plan / apply: load and validate everything offline, then (plan, apply) run the engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadInventory } from '../../inventory/load.js';
import { loadPlaybook } from '../../playbook/load.js';
import { compile, type Compiled } from '../../plan/compile.js';
import { run } from '../../apply/run.js';
import { hasChanges, type Plan } from '../../plan/types.js';
import { InputError } from '../../input/errors.js';
import { repoRoot } from '../../roles/registry.js';
import { Transport } from '../../transport/index.js';
import { gatewayOf } from '../../inventory/lab-network.js';
import type { Args } from '../args.js';
import type { Io } from '../io.js';
import { renderPlan, renderStatus, statusJson } from '../views/plan-view.js';
import { RunView, summaryTable, handlersRun } from '../views/run-view.js';
import { redact } from '../../secrets/value.js';

export async function loadAndCompile(a: Args): Promise<Compiled> {
  const invDir = a.positionals[0];
  if (!invDir) throw new InputError([{ file: '(command line)', at: 'INVENTORY', expected: 'an inventory directory, e.g. inventory/lab', found: 'nothing' }]);
  const inventory = loadInventory(invDir, { identity: a.identity });
  const playbook = loadPlaybook(resolvePlaybook(a.playbook));
  return compile(inventory, playbook, {
    limit: a.limit,
    tags: a.tags,
    // The lab's controller is this machine, on the bridge's gateway address.
    controllerAddresses: inventory.lab ? [gatewayOf(inventory.lab.network)] : [],
  });
}

function resolvePlaybook(given: string | undefined): string {
  if (given) return path.resolve(given);
  const local = path.resolve('playbooks/site.yaml');
  return fs.existsSync(local) ? local : path.join(repoRoot, 'playbooks/site.yaml');
}

export async function checkCommand(a: Args, io: Io): Promise<number> {
  const c = await loadAndCompile(a);
  const hosts = [...c.hosts.values()];
  if (a.json) io.out(JSON.stringify({ ok: true, hosts: hosts.map((h) => ({ host: h.host.name, roles: h.roles.map((r) => r.role.name), resources: h.resources.length, warnings: h.warnings })) }, null, 2));
  else {
    for (const h of hosts) {
      io.out(`${h.host.name}: ${h.roles.map((r) => r.role.name).join(', ')} — ${h.resources.length} resources`);
      h.warnings.forEach((w) => io.out(io.style('yellow', `  ! ${w}`)));
    }
    io.out(io.style('green', `ok: ${path.relative(process.cwd(), c.inventory.dir) || c.inventory.dir} and ${path.relative(process.cwd(), c.playbook.file)} are valid (${hosts.length} hosts, no connection opened)`));
  }
  return 0;
}

export async function planOrApply(mode: 'plan' | 'apply' | 'status', a: Args, io: Io): Promise<number> {
  const compiled = await loadAndCompile(a);
  const saved = a.plan ? readPlan(a.plan) : undefined;
  checkKeyFiles(compiled);
  checkLabBridge(compiled);
  const transport = new Transport(compiled.inventory, { connectTimeoutMs: a.connectTimeoutMs });
  const view = new RunView(io.interactive && !a.json, io.style, compiled.hosts.size, (l) => io.err(l));
  await view.start(`${mode}: ${compiled.hosts.size} host(s) of ${compiled.inventory.name}`);
  // Ctrl-C: the first stops new hosts and batches (running execs finish, the summary is printed,
  // exit 130); the second exits at once. What the hosts record keeps either safe for the next run.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) {
      io.err(io.style('red', 'interrupted again: exiting now (a running remote step finishes on its host; plan to see what is pending)'));
      process.exit(130);
    }
    interrupt.abort();
    io.err(io.style('yellow', 'interrupted: starting nothing new, letting running steps finish (Ctrl-C again to exit now)'));
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    // PROVISION_RECORD_PROBES=DIR keeps each host's probe output: how test/fixtures/plan/ was recorded.
    result = await run(compiled, transport, {
      mode: mode === 'apply' ? 'apply' : 'plan', forks: a.forks, execTimeoutMs: a.execTimeoutMs, emit: view.onEvent, savedPlan: saved,
      recordProbesTo: process.env.PROVISION_RECORD_PROBES || undefined,
      owner: `${os.userInfo().username}@${os.hostname()}`, commit: repoCommit(compiled.inventory.dir), signal: interrupt.signal,
    });
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
    await transport.close();
  }
  const { plan, results } = result;
  const failed = results.some((r) => r.status === 'failed' || r.status === 'unreachable');
  if (mode === 'status') {
    if (a.json) io.out(redact(JSON.stringify(statusJson(plan), null, 2)));
    else io.out(redact(renderStatus(plan, io.style)));
    return failed ? 1 : hasChanges(plan) ? 2 : 0;
  }
  if (mode === 'plan' && a.out) fs.writeFileSync(a.out, redact(JSON.stringify(stripFacts(plan), null, 2)) + '\n', { mode: 0o600 });
  if (a.json) {
    io.out(JSON.stringify({ mode, interrupted: interrupt.signal.aborted || undefined, hosts: results.map((r) => ({ host: r.host, result: r.status, changes: r.changes, handlers: r.handlers, error: r.error, unconverged: r.unconverged, warnings: r.warnings, skipped: plan.hosts.find((p) => p.host === r.host)?.skipped ?? [], durationMs: r.durationMs, execs: r.execs })) }, null, 2));
  } else {
    if (mode === 'plan') io.out(renderPlan(plan, io.style, { verbose: a.verbose }));
    io.out('');
    io.out(summaryTable(results, io.style));
    const ran = mode === 'apply' ? handlersRun(results, io.style) : '';
    if (ran) io.out(`\nhandlers run:\n${ran}`);
    // The plan view already showed each host's error in full.
    if (mode === 'apply') for (const r of results.filter((r) => r.error)) io.out(io.style('red', `\n${r.host}: ${r.error}`));
    if (mode === 'plan' && a.out) io.out(`\nplan saved to ${a.out}; apply exactly this with: provision apply ${a.positionals[0]} --plan ${a.out}`);
  }
  if (interrupt.signal.aborted) return 130;
  if (mode === 'plan') return failed ? 1 : hasChanges(plan) ? 2 : 0;
  return results.every((r) => r.status === 'changed' || r.status === 'unchanged') ? 0 : 1;
}

/** The inventory's git commit ("+dirty" with local changes), or undefined when it is not in git. */
export function repoCommit(dir: string): string | undefined {
  const git = (...args: string[]) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return undefined;
  const dirty = git('status', '--porcelain', '--', '.').stdout.trim() !== '';
  return head.stdout.trim() + (dirty ? '+dirty' : '');
}

/** A missing key file is bad input: say so before any connection. */
export function checkKeyFiles(c: Compiled): void {
  const problems = [];
  // The hosts of the run and the jump hosts they are reached through.
  const names = new Set<string>();
  for (const h of c.hosts.values()) {
    names.add(h.host.name);
    for (let j = h.host.jump; j && !names.has(j); j = c.inventory.hosts.get(j)?.jump) names.add(j);
  }
  for (const name of names) {
    const host = c.inventory.hosts.get(name)!;
    const key = host.key;
    if (key && !fs.existsSync(key)) {
      problems.push({ file: path.join(c.inventory.dir, 'hosts.yaml'), at: `hosts.${name}.key`, expected: 'a readable private key file' + (c.inventory.lab ? ' (a lab inventory: run `provision lab up` first)' : ''), found: `no file ${key}` });
    } else if (!key && !process.env.SSH_AUTH_SOCK) {
      problems.push({ file: path.join(c.inventory.dir, 'hosts.yaml'), at: `hosts.${name}.key`, expected: 'a key file, or an ssh-agent (SSH_AUTH_SOCK)', found: 'neither' });
    }
  }
  if (problems.length) throw new InputError(problems);
}

/**
 * A lab inventory's addresses exist only on its bridge. With the bridge down they would be routed
 * to this machine's default gateway — traffic to addresses that are not ours. Refuse instead.
 */
export function checkLabBridge(c: Compiled): void {
  const lab = c.inventory.lab;
  if (!lab || fs.existsSync(`/sys/class/net/${lab.bridge}`)) return;
  throw new InputError([{ file: path.join(c.inventory.dir, 'hosts.yaml'), at: 'lab.bridge', expected: `the lab bridge ${lab.bridge} to be up (run \`provision lab up ${path.relative(process.cwd(), c.inventory.dir) || c.inventory.dir}\`)`, found: 'no such interface: no connection was attempted' }]);
}

function readPlan(file: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError([{ file, at: '', expected: 'a plan file written by `provision plan --out`', found: (e as Error).message }]);
  }
  const p = data as Plan;
  if (p?.version !== 1 || !Array.isArray(p.hosts) || typeof p.desired !== 'object') {
    throw new InputError([{ file, at: 'version', expected: 'a plan file of version 1', found: JSON.stringify(p?.version) }]);
  }
  return p;
}

/** Plan files carry the changes and fingerprints; facts stay out (they are not needed to apply). */
function stripFacts(plan: Plan): Plan {
  return { ...plan, hosts: plan.hosts.map(({ facts: _f, ...h }) => h) };
}
