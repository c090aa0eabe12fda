import { describe, test, expect } from '@jest/globals';
import { labSudoers, renderHostFiles, vmMac } from '../../../src/lab/hostfiles.js';
import { tapName } from '../../../src/lab/vm.js';
import { nftTableName, renderLabRuleset } from '../../../src/lab/nft.js';
import type { LabFleet } from '../../../src/lab/index.js';

const fleet: LabFleet = {
  inventoryName: 'lab',
  bridge: 'prvlab0',
  network: '10.213.7.0/24',
  knownHosts: '/k',
  keyPath: '/key',
  hosts: [{ name: 'drand-1', address: '10.213.7.21' }, { name: 'drand-2', address: '10.213.7.22' }],
};
const net = { gateway: '10.213.7.1', prefix: 24, aptProxy: 'http://10.213.7.1:3242', mirrors: [{ host: 'deb.debian.org', address: '203.0.113.80', ports: [80, 443] }] };

describe('lab nftables table', () => {
  const rules = renderLabRuleset({ bridge: 'prvlab0', network: '10.213.7.0/24', mirrors: [{ address: '203.0.113.80', ports: [80, 443] }] });

  test('one table of our own, replaced atomically', () => {
    expect(nftTableName('prvlab0')).toBe('provision_lab_prvlab0');
    expect(nftTableName('lab-e2e')).toBe('provision_lab_lab_e2e');
    expect(rules.split('\n').slice(0, 3)).toEqual(['table inet provision_lab_prvlab0', 'delete table inet provision_lab_prvlab0', 'table inet provision_lab_prvlab0 {']);
    expect(rules).not.toMatch(/flush ruleset/);
  });

  test('masquerade for the lab subnet only', () => {
    expect(rules).toContain('ip saddr 10.213.7.0/24 oifname != "prvlab0" masquerade');
  });

  test('lab hosts may reach the mirror on tcp 80/443, and everything else from the bridge is refused after it', () => {
    const lines = rules.split('\n').map((l) => l.trim());
    const allow = lines.indexOf('iifname "prvlab0" ip saddr 10.213.7.0/24 ip daddr 203.0.113.80 tcp dport { 80, 443 } accept');
    const reject = lines.indexOf('iifname "prvlab0" reject with icmpx type admin-prohibited');
    expect(allow).toBeGreaterThan(0);
    expect(reject).toBeGreaterThan(allow);
    expect(lines).toContain('oifname "prvlab0" drop');
    // the chain's own policy stays accept: other tables' traffic is not ours to judge
    expect(rules).toContain('type filter hook forward priority filter; policy accept;');
  });
});

describe('per-host files', () => {
  const files = renderHostFiles(fleet, fleet.hosts[0]!, net, 'ssh-ed25519 AAAAlab provision-lab-controller');
  const file = (p: string) => files.find((f) => f.path === p)?.content ?? '';

  test('the static network file sorts before nspawn\'s DHCP default', () => {
    const name = files.map((f) => f.path).find((p) => p.startsWith('/etc/systemd/network/'))!;
    expect(name.split('/').pop()! < '80-container-host0.network').toBe(true);
    expect(file(name)).toContain('Address=10.213.7.21/24\nGateway=10.213.7.1\nDNS=10.213.7.1');
    expect(file(name)).toContain('Name=host0');
  });

  test('hostname, peers and mirror in /etc/hosts, apt through the gateway cache, lab key authorized', () => {
    expect(file('/etc/hostname')).toBe('drand-1\n');
    expect(file('/etc/hosts')).toContain('127.0.1.1\tdrand-1');
    expect(file('/etc/hosts')).toContain('10.213.7.22\tdrand-2');
    expect(file('/etc/hosts')).toContain('203.0.113.80\tdeb.debian.org');
    expect(file('/etc/apt/apt.conf.d/01provision-lab-proxy')).toContain('Acquire::http::Proxy "http://10.213.7.1:3242";');
    expect(file('/root/.ssh/authorized_keys')).toBe('ssh-ed25519 AAAAlab provision-lab-controller\n');
    expect(files.find((f) => f.path === '/root/.ssh/authorized_keys')!.mode).toBe(0o600);
  });

  test('a login user other than root gets the lab key; its passwordless sudo is written once, with the account', () => {
    const ops = renderHostFiles(fleet, { ...fleet.hosts[0]!, user: 'ops' }, net, 'ssh-ed25519 AAAAlab provision-lab-controller');
    expect(ops.find((f) => f.path === '/home/ops/.ssh/authorized_keys')).toEqual({ path: '/home/ops/.ssh/authorized_keys', content: 'ssh-ed25519 AAAAlab provision-lab-controller\n', mode: 0o600, owner: 'ops' });
    expect(ops.some((f) => f.path.startsWith('/etc/sudoers.d/'))).toBe(false);
    expect(labSudoers('ops')).toMatchObject({ path: '/etc/sudoers.d/90-provision-lab', mode: 0o440 });
    expect(labSudoers('ops').content).toContain('\nops ALL=(ALL:ALL) NOPASSWD: ALL\n');
    // nothing of the lab in sshd_config.d: its settings would compete with the base role's
    expect(files.some((f) => f.path.startsWith('/etc/ssh/'))).toBe(false);
    expect(renderHostFiles(fleet, { ...fleet.hosts[0]!, user: 'root' }, net, 'k').some((f) => f.path.startsWith('/home/'))).toBe(false);
  });
});

describe('a VM host (lab.machine: vm)', () => {
  const vmFleet: LabFleet = { ...fleet, machine: 'vm' };
  const files = (f: LabFleet) => new Map(renderHostFiles(f, f.hosts[0]!, net, 'ssh-ed25519 AAAA lab').map((x) => [x.path, x.content]));

  test('its link is found by the MAC the lab gives it: QEMU\'s local prefix and the host address', () => {
    expect(vmMac('10.213.7.21')).toBe('52:54:0a:d5:07:15');
    expect(files(vmFleet).get('/etc/systemd/network/10-host0.network')).toContain('[Match]\nMACAddress=52:54:0a:d5:07:15\n');
    // a container's is nspawn's host0
    expect(files(fleet).get('/etc/systemd/network/10-host0.network')).toContain('[Match]\nName=host0\n');
  });

  test('its fstab is the machine layout: /var and /home on their own disks, /tmp and /dev/shm noexec', () => {
    const fstab = files(vmFleet).get('/etc/fstab')!.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
    expect(fstab.map((l) => [l[0], l[1]])).toEqual([['/dev/vda', '/'], ['/dev/vdb', '/var'], ['/dev/vdc', '/home'], ['tmpfs', '/tmp'], ['tmpfs', '/dev/shm']]);
    for (const l of fstab.filter((x) => x[1] === '/tmp' || x[1] === '/dev/shm')) expect(l[3]!.split(',')).toEqual(expect.arrayContaining(['nodev', 'nosuid', 'noexec']));
    expect(files(fleet).has('/etc/fstab')).toBe(false);
  });

  test('its tap device name is a Linux interface name, one per fleet and host', () => {
    const names = ['drand-1', 'drand-2'].map((h) => tapName(vmFleet, h));
    expect(names[0]).toMatch(/^[a-z0-9]{1,15}$/);
    expect(new Set([...names, tapName({ bridge: 'other' }, 'drand-1')]).size).toBe(3);
  });
});
