// The bench's own lab fleet and the files both tools read: a provision inventory with a `lab:`
// section (own bridge and network, never the demo's or the tests'), the same hosts as an Ansible
// inventory, an OpenSSH client config (strict host keys against the SAME known_hosts, ProxyJump
// through the SAME bastion), and drand.service.j2 made from the role's own Handlebars template.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LabFleet } from '../../src/lab/index.js';

export const BRIDGE = 'prvbench0';
export const NETWORK = '10.213.50.0/24';
export const BASTION = { name: 'bastion', address: '10.213.50.10' };
/** drand-1 … drand-N at .101 … */
export const nodeName = (i: number) => `drand-${i}`;
export const nodeAddress = (i: number) => `10.213.50.${100 + i}`;
export const MAX_NODES = 150;

export interface BenchFleet {
  /** provision inventory directory (its basename, "bench", is the lab's inventory name) */
  invDir: string;
  fleet: LabFleet;
  nodes: { name: string; address: string }[];
  ansibleDir: string;
  sshConfig: string;
  ansibleInventory: string;
  unitTemplate: string;
}

export function writeFleet(work: string, repo: string, n: number): BenchFleet {
  if (n < 1 || n > MAX_NODES) throw new Error(`bench: ${n} nodes: between 1 and ${MAX_NODES}`);
  const invDir = path.join(work, 'bench');
  const ansibleDir = path.join(work, 'ansible');
  fs.mkdirSync(path.join(invDir, 'group_vars'), { recursive: true });
  fs.mkdirSync(ansibleDir, { recursive: true });
  const keyPath = path.join(work, 'id_ed25519');
  const knownHosts = path.join(invDir, 'known_hosts');
  const nodes = Array.from({ length: n }, (_, i) => ({ name: nodeName(i + 1), address: nodeAddress(i + 1) }));

  // --- provision inventory -------------------------------------------------------------------
  const hosts = [
    `  ${BASTION.name}: { address: ${BASTION.address} }`,
    ...nodes.map((h) => `  ${h.name}: { address: ${h.address}, jump: ${BASTION.name} }`),
  ];
  fs.writeFileSync(
    path.join(invDir, 'hosts.yaml'),
    [
      '# Written by bench/run.ts: the benchmark fleet (bastion + drand nodes behind it).',
      'lab:',
      `  bridge: ${BRIDGE}`,
      `  network: ${NETWORK}`,
      'defaults:',
      '  user: root',
      '  port: 22',
      `  key: ${keyPath}`,
      '  known_hosts: known_hosts',
      '  sizing: warn',
      '  spec: { cpus: 2, memoryGiB: 24, diskGiB: 80, bandwidthMbps: 1000, provider: lab }',
      'hosts:',
      ...hosts,
      'groups:',
      `  bastions: { hosts: [${BASTION.name}] }`,
      `  drand_nodes: { hosts: [${nodes.map((h) => h.name).join(', ')}] }`,
      '',
    ].join('\n'),
  );
  const binary = 'test/fixtures/drand-standin/drand';
  const pin = createHash('sha256').update(fs.readFileSync(path.join(repo, binary))).digest('hex');
  fs.writeFileSync(
    path.join(invDir, 'group_vars', 'drand_nodes.yaml'),
    [
      // base as the lab site configures it for drand nodes (inventory/lab/group_vars), without the
      // monitoring host and log host the bench fleet does not have
      'base:',
      '  scheduled_restarts: [drand.service]',
      'drand-node:',
      `  binary: { file: ${binary}, sha256: ${pin} }`,
      '  extra_packages: [python3]',
      '  network_group: drand_nodes',
      '',
    ].join('\n'),
  );

  // --- OpenSSH client config: what Ansible (and the bench's own checks) connect with --------------
  const sshConfig = path.join(ansibleDir, 'ssh_config');
  writeSshConfig(sshConfig, keyPath, knownHosts, null);

  // --- Ansible inventory ------------------------------------------------------------------------
  const ansibleInventory = path.join(ansibleDir, 'hosts.yml');
  fs.writeFileSync(
    ansibleInventory,
    [
      '# Written by bench/run.ts: the same hosts as bench/.work/bench/hosts.yaml.',
      'all:',
      '  vars:',
      '    ansible_user: root',
      '    ansible_python_interpreter: /usr/bin/python3',
      '  children:',
      '    bastions:',
      '      hosts:',
      `        ${BASTION.name}: { ansible_host: ${BASTION.address} }`,
      '    drand_nodes:',
      '      hosts:',
      ...nodes.map((h) => `        ${h.name}: { ansible_host: ${h.address} }`),
      '',
    ].join('\n'),
  );

  // --- the unit template, from the role's own .hbs ------------------------------------------------
  const unitTemplate = path.join(ansibleDir, 'drand.service.j2');
  fs.writeFileSync(unitTemplate, hbsToJinja(fs.readFileSync(path.join(repo, 'roles/drand-node/templates/drand.service.hbs'), 'utf8')));

  return {
    invDir,
    fleet: {
      inventoryName: path.basename(invDir),
      bridge: BRIDGE,
      network: NETWORK,
      knownHosts,
      keyPath,
      hosts: [BASTION, ...nodes],
    },
    nodes,
    ansibleDir,
    sshConfig,
    ansibleInventory,
    unitTemplate,
  };
}

/**
 * The subset of Handlebars the role templates use, as Jinja: {{name}} is the same in both;
 * {{#each list}}…{{this}}…{{/each}} becomes a for loop. Anything else is refused, never guessed.
 */
export function hbsToJinja(src: string): string {
  if (/\{%|(^|[^{])\{#/.test(src)) throw new Error('template contains Jinja syntax in its text: convert by hand');
  let out = src.replace(/\{\{#each ([A-Za-z_][A-Za-z0-9_]*)\}\}([\s\S]*?)\{\{\/each\}\}/g, (_m, list: string, body: string) => {
    return `{% for hbs_item in ${list} %}${body.replace(/\{\{this\}\}/g, '{{ hbs_item }}')}{% endfor %}`;
  });
  out = out.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, '{{ $1 }}');
  const left = /\{\{[^ ]/.exec(out.replace(/\{\{ [A-Za-z_][A-Za-z0-9_]* \}\}/g, ''));
  if (left) throw new Error(`template uses Handlebars beyond {{name}} and {{#each}}: ${out.slice(left.index, left.index + 40)}`);
  return out;
}

/**
 * The OpenSSH client config. Nodes: ProxyJump through the bastion. With `controlDir` (an Ansible
 * run), the bastion hop is multiplexed too (ControlMaster): the jump connections of all forks share
 * one bastion connection after the first, as provision's do — Ansible at its best.
 */
export function writeSshConfig(file: string, keyPath: string, knownHosts: string, controlDir: string | null): void {
  const net3 = NETWORK.split('.').slice(0, 3).join('.');
  fs.writeFileSync(
    file,
    [
      '# Written by bench/run.ts. Nodes are reached through the bastion, host keys checked strictly.',
      `Host ${net3}.* !${BASTION.address}`,
      `  ProxyJump root@${BASTION.address}`,
      ...(controlDir
        ? [`Host ${BASTION.address}`, '  ControlMaster auto', `  ControlPath ${controlDir}/jump-%C`, '  ControlPersist 60s']
        : []),
      `Host ${net3}.*`,
      '  User root',
      `  IdentityFile ${keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '  ConnectTimeout 10',
      '',
    ].join('\n'),
  );
}

/** ansible.cfg for one run: forks, and a fresh ControlPath directory (every run starts cold, like provision). */
export function writeAnsibleCfg(bf: BenchFleet, forks: number, controlDir: string): string {
  fs.mkdirSync(controlDir, { recursive: true, mode: 0o700 });
  const sshConfig = path.join(bf.ansibleDir, 'ssh_config.run');
  writeSshConfig(sshConfig, bf.fleet.keyPath, bf.fleet.knownHosts, controlDir);
  const cfg = path.join(bf.ansibleDir, 'ansible.cfg');
  fs.writeFileSync(
    cfg,
    [
      '# Written by bench/run.ts: Ansible at its best for this playbook.',
      '[defaults]',
      `inventory = ${bf.ansibleInventory}`,
      `forks = ${forks}`,
      'host_key_checking = True',
      'gathering = explicit',
      'retry_files_enabled = False',
      'interpreter_python = /usr/bin/python3',
      'nocolor = True',
      `local_tmp = ${path.join(bf.ansibleDir, 'tmp')}`,
      '',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -F ${sshConfig} -o ControlMaster=auto -o ControlPersist=60s`,
      `control_path_dir = ${controlDir}`,
      'control_path = %(directory)s/%%C',
      'retries = 0',
      '',
    ].join('\n'),
  );
  return cfg;
}
