// drand-http-relay: firewall openings only from allow_from, the sandboxed unit and its flags, the
// node it reads from, sizing and placement from seed 000, the shared sha256 pin; drand-node's
// automatic relay peers; and the relay stand-in (test/fixtures/drand-standin/drand-relay-http,
// a Python script — not drand) in front of the drand stand-in.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build, find, freePort, labHosts, repoRoot, roles, rulesFor, sha256File, STANDIN, tpl, withDefaults } from './helpers.js';
import relayRole, { nodeEndpoints, pickNode, resolveEndpoint } from '../../../roles/drand-http-relay/role.js';
import { relayPeers } from '../../../roles/drand-node/role.js';
import type { CommandState, FileState } from '../../../src/resources/index.js';
import type { HostView, RoleDefinition } from '../../../src/roles/types.js';

// the helpers build hosts from their role table; the relay joins it here
roles['drand-http-relay'] = relayRole as unknown as RoleDefinition;

const RELAY_STANDIN = 'test/fixtures/drand-standin/drand-relay-http';
const WRONG = '0'.repeat(64);
const CDN = ['203.0.113.128/26', '198.51.100.77'];
const MAINNET = '8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce';

/** The lab fleet plus two relays (addresses of the lab's range). */
function fleet(): HostView[] {
  const relay = (name: string, address: string): HostView => ({
    name,
    address,
    groups: ['all', 'http_relays'],
    roles: ['base', 'drand-http-relay'],
    provider: 'lab',
    jump: 'bastion-1',
  });
  return [...labHosts(), relay('relay-1', '10.213.7.41'), relay('relay-2', '10.213.7.42')];
}

const relayVars = (extra: Record<string, unknown> = {}) => ({
  binary: { file: RELAY_STANDIN, sha256: sha256File(path.join(repoRoot, RELAY_STANDIN)) },
  network_group: 'drand_nodes',
  extra_packages: ['python3'],
  allow_from: CDN,
  ...extra,
});
const buildRelay = (host = 'relay-1', extra: Record<string, unknown> = {}) =>
  build({ host, hosts: fleet(), vars: { 'drand-http-relay': relayVars(extra) } });
const execStart = (unit: string) => unit.split('\n').find((l) => l.startsWith('ExecStart='))!;

describe('drand-http-relay: firewall', () => {
  test('the HTTP port only from allow_from (the CDN), metrics only from monitoring, nothing for any', () => {
    const b = buildRelay();
    expect(rulesFor(b, 8081)).toEqual([
      'ip saddr { 203.0.113.128/26, 198.51.100.77 } tcp dport 8081 accept comment "drand HTTP relay from the CDN / load balancers (drand-http-relay.allow_from)"',
    ]);
    expect(rulesFor(b, 9080)).toEqual(['ip saddr { 10.213.7.30 } tcp dport 9080 accept comment "drand relay metrics from base.monitoring"']);
    expect(b.openings.every((o) => o.from !== 'any')).toBe(true);
    expect(tpl(b, 'base/nftables.conf')).not.toMatch(/^\s*tcp dport 8081 accept/m);
  });

  test('no allow_from: the port stays closed, visibly; the whole internet only as an explicit any', () => {
    expect(rulesFor(buildRelay('relay-1', { allow_from: [] }), 8081)).toEqual([
      '# tcp/8081 stays closed: no sources (drand HTTP relay from the CDN / load balancers (drand-http-relay.allow_from))',
    ]);
    expect(() => buildRelay('relay-1', { allow_from: ['0.0.0.0/0'] })).toThrow(/whole internet; write 'any'/);
    expect(rulesFor(buildRelay('relay-1', { allow_from: 'any' }), 8081)).toEqual([
      'tcp dport 8081 accept comment "drand HTTP relay from anywhere (drand-http-relay.allow_from: any)"',
    ]);
    expect(() => withDefaults(relayRole as never, { ...relayVars(), allow_from: 'all' })).toThrow();
  });

  test('bind and metrics follow the vars; a loopback bind cannot be opened to the CDN', () => {
    const b = buildRelay('relay-2', { bind: '0.0.0.0:8443', metrics_port: null, metrics_from: null });
    expect(rulesFor(b, 8443)[0]).toMatch(/tcp dport 8443 accept/);
    expect(rulesFor(b, 9080)).toEqual([]);
    expect(execStart(tpl(b, 'drand-http-relay/drand-relay-http.service'))).not.toContain('--metrics');
    expect(() => buildRelay('relay-1', { bind: '127.0.0.1:8081' })).toThrow(/loopback address; allow_from could never reach it/);
    expect(() => buildRelay('relay-1', { bind: '127.0.0.1:8081', allow_from: [] })).not.toThrow();
  });
});

describe('drand-http-relay: the drand node it reads from', () => {
  test('default: the drand-node hosts of network_group at :4444; the relays are spread over them', () => {
    const hosts = fleet();
    const inv = { hosts, group: (g: string) => hosts.filter((h) => h.groups.includes(g)) };
    const vars = withDefaults(relayRole as never, relayVars()) as never;
    const at = (name: string) => ({ host: hosts.find((h) => h.name === name)!, inventory: inv, vars });
    expect(nodeEndpoints(at('relay-1'))).toEqual(['10.213.7.21:4444', '10.213.7.22:4444', '10.213.7.23:4444']);
    expect(pickNode(at('relay-1'))).toBe('10.213.7.21:4444');
    expect(pickNode(at('relay-2'))).toBe('10.213.7.22:4444');
    const ex = (h: string) => execStart(tpl(buildRelay(h), 'drand-http-relay/drand-relay-http.service'));
    expect(ex('relay-1')).toContain('--grpc-connect 10.213.7.21:4444 ');
    expect(ex('relay-2')).toContain('--grpc-connect 10.213.7.22:4444 ');
  });

  test('grpc_connect: inventory hosts, addresses and DNS names; a misspelt host is an error', () => {
    const hosts = fleet();
    expect(resolveEndpoint('drand-3', hosts, 4444)).toBe('10.213.7.23:4444');
    expect(resolveEndpoint('drand-3:4445', hosts, 4444)).toBe('10.213.7.23:4445');
    expect(resolveEndpoint('192.0.2.7', hosts, 4444)).toBe('192.0.2.7:4444');
    expect(resolveEndpoint('[2001:db8::7]:443', hosts, 4444)).toBe('[2001:db8::7]:443');
    expect(resolveEndpoint('pl1-rpc.testnet.drand.sh:443', hosts, 4444)).toBe('pl1-rpc.testnet.drand.sh:443');
    expect(() => resolveEndpoint('drand-9', hosts, 4444)).toThrow(/"drand-9" is neither a host of the inventory nor an IP address or DNS name/);
    expect(() => resolveEndpoint('drand-1:99999', hosts, 4444)).toThrow(/expected host\[:port\]/);
    const b = buildRelay('relay-2', { grpc_connect: ['drand-3'] });
    expect(execStart(tpl(b, 'drand-http-relay/drand-relay-http.service'))).toContain('--grpc-connect 10.213.7.23:4444 ');
  });

  test('a network_group without drand nodes is an error that says what to set', () => {
    expect(() => buildRelay('relay-1', { network_group: 'monitoring' })).toThrow(
      /no drand node to connect to for relay-1: group "monitoring" has no drand-node host; set drand-http-relay.network_group or grpc_connect/,
    );
  });

  test('TLS and the root of trust: plaintext passes --insecure; TLS needs chain_hashes', () => {
    const plain = execStart(tpl(buildRelay('relay-1', { chain_hashes: [MAINNET] }), 'drand-http-relay/drand-relay-http.service'));
    expect(plain).toBe(
      `ExecStart=/usr/local/bin/drand-relay-http --grpc-connect 10.213.7.21:4444 --bind 10.213.7.41:8081 --metrics 10.213.7.41:9080 --hash-list ${MAINNET} --insecure`,
    );
    expect(() => buildRelay('relay-1', { grpc_tls: true })).toThrow(/grpc_tls: true drand-relay-http needs a root of trust — give chain_hashes/);
    const tls = execStart(tpl(buildRelay('relay-1', { grpc_tls: true, chain_hashes: [MAINNET] }), 'drand-http-relay/drand-relay-http.service'));
    expect(tls).not.toContain('--insecure');
    expect(() => withDefaults(relayRole as never, { ...relayVars(), chain_hashes: ['not-a-hash'] })).toThrow(/pattern/);
  });
});

describe('drand-http-relay: the daemon', () => {
  test('the systemd unit is sandboxed, runs as its own user and may write nothing', () => {
    const b = buildRelay();
    const lines = tpl(b, 'drand-http-relay/drand-relay-http.service').split('\n');
    for (const line of [
      'User=drand-relay',
      'Group=drand-relay',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      'MemoryDenyWriteExecute=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'SystemCallFilter=~@privileged',
      'Restart=on-failure',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.some((l) => l.startsWith('ReadWritePaths='))).toBe(false);
    expect(find(b, 'systemd-unit:drand-relay-http.service').notify).toEqual(['restart drand-relay-http']);
    expect(b.handlers['restart drand-relay-http']).toMatchObject({ restarts: 'drand-relay-http' });
    expect(b.handlers['restart drand-relay-http']!.script).toContain('systemctl restart -- drand-relay-http');
    expect(find(b, 'service:drand-relay-http')).toBeDefined();
  });

  test('a port below 1024 gets CAP_NET_BIND_SERVICE and nothing else', () => {
    const lines = tpl(buildRelay('relay-1', { bind: '0.0.0.0:80' }), 'drand-http-relay/drand-relay-http.service').split('\n');
    expect(lines).toContain('CapabilityBoundingSet=CAP_NET_BIND_SERVICE');
    expect(lines).toContain('AmbientCapabilities=CAP_NET_BIND_SERVICE');
    expect(lines).not.toContain('CapabilityBoundingSet=');
  });

  test('a dedicated system user without a home or a shell', () => {
    const b = buildRelay();
    expect(find(b, 'user:drand-relay').diff({ exists: false } as never)!.summary).toBe(
      'create user drand-relay (system, home /nonexistent, shell /usr/sbin/nologin)',
    );
    expect(find(b, 'group:drand-relay')).toBeDefined();
  });

  test('health: /health of the relay itself with curl (the service resource covers "running")', () => {
    expect(buildRelay().health['drand-http-relay']!.map((h) => h.script)).toEqual(['curl -fsS --max-time 5 -o /dev/null http://10.213.7.41:8081/health']);
    expect(buildRelay('relay-1', { bind: '0.0.0.0:8081' }).health['drand-http-relay']![0]!.script).toContain('http://127.0.0.1:8081/health');
    expect(find(buildRelay(), 'apt:curl,python3')).toBeDefined();
  });
});

describe('drand-http-relay: the binary and its sha256 pin (shared with drand-node)', () => {
  test('file: shipped after the pin check; a mismatch names this role\'s var', () => {
    const bin = find(buildRelay(), 'file:/usr/local/bin/drand-relay-http');
    expect(bin.notify).toEqual(['restart drand-relay-http']);
    expect(bin.diff({ kind: 'missing' } as FileState)!.summary).toContain('root:root 0755');
    expect(() => buildRelay('relay-1', { binary: { file: RELAY_STANDIN, sha256: WRONG } })).toThrow(
      new RegExp(`drand-http-relay.binary: ${RELAY_STANDIN} has sha256 [0-9a-f]{64}, but the pin drand-http-relay.binary.sha256 is ${WRONG}`),
    );
    expect(() => buildRelay('relay-1', { binary: { file: '../etc/passwd', sha256: WRONG } })).toThrow(/drand-http-relay.binary.file: .* inside the repository/);
    expect(() => buildRelay('relay-1', { binary: { sha256: WRONG } })).toThrow(/drand-http-relay.binary: give exactly one of url/);
  });

  test('url: downloaded on the host and checked before it replaces the binary', () => {
    const sha = 'b'.repeat(64);
    const b = buildRelay('relay-1', { binary: { url: 'https://example.org/drand-relay-http', sha256: sha } });
    const cmd = b.all.find((r) => r.id.startsWith('command:install drand-relay-http'))!;
    expect(cmd.id).toBe(`command:install drand-relay-http ${sha.slice(0, 12)} from https://example.org/drand-relay-http`);
    expect(cmd.probe()).toContain(`printf '%s  %s\\n' ${sha} /usr/local/bin/drand-relay-http | sha256sum -c --status`);
    const run = cmd.apply({ done: false } as CommandState);
    expect(run).toContain("--proto '=https'");
    expect(run).toContain('the pin drand-http-relay.binary.sha256 is');
    expect(run).toContain('mv -fT -- "$t" /usr/local/bin/drand-relay-http');
  });

  test('one implementation: both roles build their daemon with the daemon helper, neither carries pin code or its own user/unit/service', () => {
    for (const role of ['drand-node', 'drand-http-relay']) {
      const src = fs.readFileSync(path.join(repoRoot, 'roles', role, 'role.ts'), 'utf8');
      expect(src).toMatch(/from '\.\.\/\.\.\/src\/roles\/daemon\.js'/);
      expect(src).toMatch(/daemon\(\{/);
      expect(src).not.toMatch(/createHash|sha256sum|r\.user\(|r\.systemdUnit\(|r\.service\(/);
    }
  });
});

describe('drand-http-relay: placement and sizing', () => {
  // the gossip relay (no role yet) will state its own rule: a notWith naming no role is a check error
  test('never with a drand node or a bastion; not private (it serves the CDN)', () => {
    expect(relayRole.placement).toEqual({ notWith: ['drand-node', 'bastion'] });
  });
  test('sizing from the seed table: 32 GB memory checked as 30 GiB, 100 Mbps, no disk of its own', () => {
    expect(relayRole.sizing).toMatchObject({ cpus: 1, memoryGiB: 30, bandwidthMbps: 100, arch: ['x86_64'] });
    expect(relayRole.sizing!.diskGiB).toBeUndefined();
    expect(relayRole.sizing!.source).toMatch(/seed 000/);
  });
});

describe('drand-node: the HTTP relays may open the gRPC port', () => {
  test("auto: every drand-http-relay host of the inventory, as its own rule", () => {
    const b = build({ host: 'drand-1', hosts: fleet() });
    expect(rulesFor(b, 4444)).toEqual([
      'ip saddr { 10.213.7.22, 10.213.7.23 } tcp dport 4444 accept comment "drand gRPC from the other drand nodes of drand_nodes"',
      'ip saddr { 10.213.7.41, 10.213.7.42 } tcp dport 4444 accept comment "drand gRPC from the HTTP relays (drand-node.http_relays: auto)"',
    ]);
  });

  test('an explicit list replaces auto; [] and an inventory without relays add no rule', () => {
    const drand = (extra: Record<string, unknown>) => ({ 'drand-node': { binary: { file: STANDIN, sha256: sha256File(path.join(repoRoot, STANDIN)) }, network_group: 'drand_nodes', ...extra } });
    expect(rulesFor(build({ host: 'drand-2', hosts: fleet(), vars: drand({ http_relays: ['relay-2'] }) }), 4444)[1]).toBe(
      'ip saddr { 10.213.7.42 } tcp dport 4444 accept comment "drand gRPC from the HTTP relays (drand-node.http_relays)"',
    );
    expect(rulesFor(build({ host: 'drand-2', hosts: fleet(), vars: drand({ http_relays: [] }) }), 4444)).toHaveLength(1);
    expect(rulesFor(build({ host: 'drand-2' }), 4444)).toHaveLength(1);
    expect(() => build({ host: 'drand-2', hosts: fleet(), vars: drand({ http_relays: ['relay-9'] }) })).toThrow(/drand-node\.http_relays.*"relay-9" is neither/);
  });

  test('never the node itself, even under a second name', () => {
    const hosts = [...fleet(), { name: 'drand-1-relay', address: '10.213.7.21', groups: ['all'], roles: ['drand-http-relay'], provider: 'lab' }];
    const inv = { hosts, group: (g: string) => hosts.filter((h) => h.groups.includes(g)) };
    const me = hosts.find((h) => h.name === 'drand-1')!;
    expect(relayPeers({ host: me, inventory: inv, vars: { http_relays: 'auto' } as never })).toEqual(['relay-1', 'relay-2']);
  });
});

// ---------------------------------------------------------------------------------------------
// The stand-ins: the relay reads the node through the node stand-in's private port.

const hasPython = spawnSync('python3', ['--version']).status === 0;
const maybe = hasPython ? describe : describe.skip;


async function waitFor(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1' }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

const get = async (port: number, p: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

maybe('drand-relay-http stand-in', () => {
  const relayScript = path.join(repoRoot, RELAY_STANDIN);
  let folder: string;
  let node: ChildProcess | undefined;
  let relay: ChildProcess | undefined;
  const p = { priv: 0, ctl: 0, nodeMet: 0, pub: 0, bind: 0, met: 0 };

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-standin-'));
    for (const d of ['key', 'groups', 'db']) fs.mkdirSync(path.join(folder, 'multibeacon/default', d), { recursive: true });
    for (const k of Object.keys(p) as (keyof typeof p)[]) p[k] = await freePort();
    node = spawn('python3', [path.join(repoRoot, STANDIN), 'start', '--private-listen', `127.0.0.1:${p.priv}`, '--control', String(p.ctl),
      '--metrics', `127.0.0.1:${p.nodeMet}`, '--public-listen', `127.0.0.1:${p.pub}`, '--folder', folder], { stdio: 'ignore' });
    await waitFor(p.pub);
  });
  afterAll(() => {
    relay?.kill('SIGTERM');
    node?.kill('SIGTERM');
    fs.rmSync(folder, { recursive: true, force: true });
  });

  test('says it is a stand-in', () => {
    expect(fs.readFileSync(relayScript, 'utf8').split('\n').slice(0, 3).join('\n')).toMatch(/TEST STAND-IN — THIS IS NOT DRAND/);
  });

  test("the node stand-in's private port answers one line GET <path>", async () => {
    const line = await new Promise<string>((resolve, reject) => {
      let data = '';
      const c = net.connect({ port: p.priv, host: '127.0.0.1' }, () => c.write('GET /info\n'));
      c.on('data', (d) => (data += d));
      c.on('end', () => resolve(data));
      c.on('error', reject);
    });
    expect(line).toMatch(/^200 \{.*"hash": "[0-9a-f]{64}".*\}\n$/);
  });

  test('like the real relay: no root of trust, no start', () => {
    const r = spawnSync('python3', [relayScript, '-grpc-connect', `127.0.0.1:${p.priv}`, '-bind', `127.0.0.1:${p.bind}`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no root of trust specified/);
  });

  test('with the flags the role writes, it serves what the node serves', async () => {
    const info = await get(p.pub, '/info');
    const hash = String(info.body.hash);
    // exactly the shape of the role's ExecStart (--flag value pairs)
    relay = spawn('python3', [relayScript, '--grpc-connect', `127.0.0.1:${p.priv}`, '--bind', `127.0.0.1:${p.bind}`,
      '--metrics', `127.0.0.1:${p.met}`, '--hash-list', hash, '--insecure'], { stdio: 'ignore' });
    await waitFor(p.bind);
    expect(await get(p.bind, '/health')).toMatchObject({ status: 200 });
    expect((await get(p.bind, '/info')).body).toEqual(info.body);
    const latest = await get(p.bind, `/${hash}/public/latest`);
    expect(latest.status).toBe(200);
    expect(Object.keys(latest.body).sort()).toEqual(['randomness', 'round', 'signature']);
    expect((await get(p.bind, '/public/2')).body).toEqual((await get(p.pub, '/public/2')).body);
    expect((await get(p.bind, `/${'e'.repeat(64)}/public/latest`)).status).toBe(404);
    const metrics = await (await fetch(`http://127.0.0.1:${p.met}/metrics`)).text();
    expect(metrics).toMatch(/^drand_relay_http_requests_total\{code="200"\} \d+$/m);
  });

  test("the relay's /health follows the node: a stalled node, then an unreachable one, give 503", async () => {
    node!.kill('SIGUSR1'); // the stand-in stops producing rounds
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await get(p.bind, '/health')).status;
    }
    expect(status).toBe(503);
    node!.kill('SIGTERM');
    await new Promise((r) => node!.once('exit', r));
    const down = await get(p.bind, '/health');
    expect(down.status).toBe(503);
    expect(String(down.body.error)).toMatch(/cannot reach the drand node/);
  });
});
