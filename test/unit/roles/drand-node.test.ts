import { describe, test, expect } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { build, find, labDrandVars, labHosts, repoRoot, roles, rulesFor, STANDIN, tpl, withDefaults } from './helpers.js';
import { checkPin, drandPeers, readPinnedFile } from '../../../roles/drand-node/role.js';
import type { CommandState, FileState } from '../../../src/resources/index.js';
import type { HostView } from '../../../src/roles/types.js';

const WRONG = '0'.repeat(64);
const drandVars = (extra: Record<string, unknown>) => ({ 'drand-node': { ...labDrandVars(), ...extra } });

describe('drand-node: firewall', () => {
  test('gRPC 4444 only from the OTHER drand nodes: not itself, never any', () => {
    for (const [host, others] of [
      ['drand-1', '10.213.7.22, 10.213.7.23'],
      ['drand-2', '10.213.7.21, 10.213.7.23'],
      ['drand-3', '10.213.7.21, 10.213.7.22'],
    ] as const) {
      const b = build({ host });
      expect(rulesFor(b, 4444)).toEqual([
        `ip saddr { ${others} } tcp dport 4444 accept comment "drand gRPC from the other drand nodes of drand_nodes"`,
      ]);
      expect(tpl(b, 'base/nftables.conf')).not.toMatch(/^\s*tcp dport 4444 accept/m);
    }
  });

  test('control port 8888 and the local HTTP API get no opening', () => {
    const b = build({ host: 'drand-1' });
    expect(rulesFor(b, 8888)).toEqual([]);
    expect(rulesFor(b, 8080)).toEqual([]);
    expect(b.openings.every((o) => o.from !== 'any')).toBe(true);
  });

  test('peers: the group decides; a node outside its network_group is an error', () => {
    const hosts: HostView[] = [
      ...labHosts(),
      { name: 'drand-t1', address: '10.213.7.41', groups: ['all', 'drand_testnet'], roles: ['base', 'drand-node'], provider: 'lab', jump: 'bastion-1' },
      // a second inventory name for drand-1's machine is not a peer either
      { name: 'drand-1-alias', address: '10.213.7.21', groups: ['all', 'drand_nodes'], roles: ['base', 'drand-node'], provider: 'lab' },
    ];
    const inv = { hosts, group: (g: string) => hosts.filter((h) => h.groups.includes(g)) };
    const vars = withDefaults(roles['drand-node']!, labDrandVars()) as never;
    const me = hosts.find((h) => h.name === 'drand-1')!;
    expect(drandPeers({ host: me, inventory: inv, vars }).map((h) => h.name)).toEqual(['drand-2', 'drand-3']);
    // network_group null: every drand-node host of the inventory
    const all = withDefaults(roles['drand-node']!, { ...labDrandVars(), network_group: null }) as never;
    expect(drandPeers({ host: me, inventory: inv, vars: all }).map((h) => h.name)).toEqual(['drand-2', 'drand-3', 'drand-t1']);
    const t1 = hosts.find((h) => h.name === 'drand-t1')!;
    expect(() => drandPeers({ host: t1, inventory: inv, vars })).toThrow(/not in group "drand_nodes"/);
  });

  test('extra peers (other operators, relays) and metrics_from override', () => {
    const b = build({ host: 'drand-1', vars: drandVars({ extra_peers: ['203.0.113.0/28'], metrics_from: ['198.51.100.9'] }) });
    expect(rulesFor(b, 4444)[0]).toMatch(/^ip saddr \{ 10\.213\.7\.22, 10\.213\.7\.23, 203\.0\.113\.0\/28 \} tcp dport 4444 accept/);
    expect(rulesFor(b, 9080)).toEqual(['ip saddr { 198.51.100.9 } tcp dport 9080 accept comment "drand metrics from drand-node.metrics_from"']);
  });
});

describe('drand-node: the daemon', () => {
  test('the systemd unit is sandboxed and runs drand with the documented flags', () => {
    const b = build({ host: 'drand-1' });
    const unit = tpl(b, 'drand-node/drand.service');
    for (const line of [
      'User=drand',
      'Group=drand',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/drand',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      'Restart=on-failure',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    expect(unit).toContain(
      'ExecStart=/usr/local/bin/drand start --private-listen 10.213.7.21:4444 --public-listen 127.0.0.1:8080 --control 8888 --metrics 10.213.7.21:9080 --folder /var/lib/drand\n',
    );
    expect(find(b, 'systemd-unit:drand.service').notify).toEqual(['restart drand']);
    expect(b.handlers['restart drand']).toMatchObject({ effect: 'service drand will restart', restarts: 'drand' });
    expect(b.handlers['restart drand']!.script).toContain('systemctl restart -- drand');
  });

  test('dedicated system user and the folder layout, 0700', () => {
    const b = build({ host: 'drand-2' });
    expect(find(b, 'user:drand').diff({ exists: false } as never)!.summary).toBe('create user drand (system, home /var/lib/drand, shell /usr/sbin/nologin)');
    for (const d of ['', '/multibeacon', '/multibeacon/default', '/multibeacon/default/key', '/multibeacon/default/groups', '/multibeacon/default/db']) {
      const r = find(b, `directory:/var/lib/drand${d}`);
      expect(r.diff({ kind: 'missing' } as never)!.summary).toContain('drand:drand 0700');
    }
  });

  test('health: /health over the local HTTP API with curl (installed by the role)', () => {
    const b = build({ host: 'drand-1' });
    expect(b.health['drand-node']!.map((h) => h.script)).toContain('curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8080/health');
    expect(find(b, 'apt:curl,python3')).toBeDefined();
  });
});

describe('drand-node: the binary and its sha256 pin', () => {
  test('file: shipped from the repository after the pin check', () => {
    const b = build({ host: 'drand-3' });
    const bin = find(b, 'file:/usr/local/bin/drand');
    expect(bin.notify).toEqual(['restart drand']);
    expect(bin.diff({ kind: 'missing' } as FileState)!.summary).toContain('root:root 0755');
  });

  test('a pin mismatch is a clear error at plan time', () => {
    expect(() => build({ host: 'drand-1', vars: drandVars({ binary: { file: STANDIN, sha256: WRONG } }) })).toThrow(
      new RegExp(`${STANDIN} has sha256 [0-9a-f]{64}, but the pin drand-node.binary.sha256 is ${WRONG}`),
    );
    expect(() => checkPin(Buffer.from('x'), WRONG, 'x')).toThrow(/stale/);
  });

  test('file paths stay inside the repository', () => {
    const rp = (p: string) => path.join(repoRoot, p);
    expect(() => readPinnedFile('../etc/passwd', WRONG, rp)).toThrow(/inside the repository/);
    expect(() => readPinnedFile('/etc/passwd', WRONG, rp)).toThrow(/inside the repository/);
    expect(() => readPinnedFile('test/fixtures/nope', WRONG, rp)).toThrow(/cannot read test\/fixtures\/nope \(ENOENT\)/);
  });

  test('url: downloaded on the host, checked with sha256sum, installed only when the hash is not already there', () => {
    const sha = 'a'.repeat(64);
    const b = build({ host: 'drand-1', vars: drandVars({ binary: { url: 'https://example.org/drand', sha256: sha } }) });
    const cmd = b.all.find((r) => r.id.startsWith('command:install drand '))!;
    expect(cmd.id).toBe(`command:install drand ${sha.slice(0, 12)} from https://example.org/drand`);
    expect(cmd.notify).toEqual(['restart drand']);
    expect(cmd.probe()).toContain(`printf '%s  %s\\n' ${sha} /usr/local/bin/drand | sha256sum -c --status`);
    const run = cmd.apply({ done: false } as CommandState);
    expect(run).toContain("--proto '=https'");
    expect(run).toContain(`printf '%s  %s\\n' ${sha} "$t" | sha256sum -c --status`);
    expect(run).toContain('mv -fT -- "$t" /usr/local/bin/drand');
    expect(b.all.some((r) => r.id === 'file:/usr/local/bin/drand')).toBe(false);
  });

  test('exactly one of url and file', () => {
    expect(() => build({ host: 'drand-1', vars: drandVars({ binary: { sha256: WRONG } }) })).toThrow(/exactly one of url/);
    expect(() => build({ host: 'drand-1', vars: drandVars({ binary: { sha256: WRONG, file: STANDIN, url: 'https://x.org/d' } }) })).toThrow(/exactly one of url/);
    expect(() => withDefaults(roles['drand-node']!, { binary: { url: 'http://insecure.example/drand', sha256: WRONG } })).toThrow(/pattern/);
  });

  test('the lab pin in inventory/lab/group_vars/drand_nodes.yaml matches the stand-in', async () => {
    const { parse } = await import('yaml');
    const doc = parse(fs.readFileSync(path.join(repoRoot, 'inventory/lab/group_vars/drand_nodes.yaml'), 'utf8')) as {
      'drand-node': { binary: { file: string; sha256: string } };
    };
    const pin = doc['drand-node'].binary;
    expect(pin.file).toBe(STANDIN);
    expect(() => readPinnedFile(pin.file, pin.sha256, (p) => path.join(repoRoot, p))).not.toThrow();
  });
});

describe('drand-node: placement and sizing', () => {
  test('never with relays or a bastion, never public', () => {
    // the gossip relay (no role yet) will state its own rule: a notWith naming no role is a check error
    expect(roles['drand-node']!.placement).toEqual({ notWith: ['drand-http-relay', 'bastion'], private: true });
  });
  test('sizing from the seed table', () => {
    const s = roles['drand-node']!.sizing!;
    expect(s).toMatchObject({ cpus: 1, memoryGiB: 7.5, diskGiB: 29, diskPath: '/var/lib/drand', bandwidthMbps: 1, arch: ['x86_64'] });
    expect(s.source).toMatch(/seed 000/);
  });
});
