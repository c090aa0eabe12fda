// Boots a real 2-host lab fleet of its own (bridge prvlabtest0, 10.213.99.0/24 — never inventory/lab's),
// logs in with strict host-key checking, resets one host, and checks that `down` leaves nothing behind.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labReset, labStatus, labUp, nftTableName, sshArgs, STATE_DIR, type LabEvent, type LabFleet } from '../../src/lab/index.js';

const isRoot = process.getuid?.() === 0;
const maybe = isRoot ? describe : describe.skip;

const tmp = isRoot ? mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-')) : '/nonexistent';
const fleet: LabFleet = {
  inventoryName: 'e2e-lab',
  bridge: 'prvlabtest0',
  network: '10.213.99.0/24',
  knownHosts: path.join(tmp, 'known_hosts'),
  keyPath: path.join(tmp, 'id_ed25519'),
  hosts: [
    { name: 'e2e-a', address: '10.213.99.10' },
    { name: 'e2e-b', address: '10.213.99.11' },
  ],
};
const stateDir = path.join(STATE_DIR, 'hosts', fleet.inventoryName);

const events: LabEvent[] = [];
const emit = (e: LabEvent) => events.push(e);

function ssh(address: string, command: string, extra: string[] = []): string {
  return execFileSync('ssh', [...extra, ...sshArgs(fleet, address, command)], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
const knownHostLine = (address: string) => readFileSync(fleet.knownHosts, 'utf8').split('\n').find((l) => l.startsWith(`${address} `));
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'; // a zombie is not a live process
  } catch {
    return false;
  }
};
const bootedPids = () => events.flatMap((e) => (e.type === 'lab.host.booting' ? [e.pid] : []));

maybe('lab fleet (real systemd-nspawn hosts)', () => {
  let veths: string[] = [];

  beforeAll(async () => {
    await labDown(fleet, () => {}, { wipe: true }); // leftovers of an interrupted earlier run
  });

  afterAll(async () => {
    await labDown(fleet, () => {}, { wipe: true }).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  });

  test('up boots both hosts; each accepts a strict SSH login and has its own identity', async () => {
    const r = await labUp(fleet, { installDeps: process.env.CI === 'true' }, emit);
    expect(r.booted.sort()).toEqual(['e2e-a', 'e2e-b']);
    const ids = fleet.hosts.map((h) => {
      const [hostname, machineId] = ssh(h.address, 'hostname; cat /etc/machine-id').split('\n');
      expect(hostname).toBe(h.name);
      expect(machineId).toMatch(/^[0-9a-f]{32}$/);
      expect(knownHostLine(h.address)).toMatch(/^10\.213\.99\.1[01] ssh-ed25519 AAAA\S+$/);
      return machineId;
    });
    expect(ids[0]).not.toBe(ids[1]);
    // strictness is real: without the recorded key the very same login is refused
    expect(() => ssh(fleet.hosts[0]!.address, 'true', ['-o', 'UserKnownHostsFile=/dev/null'])).toThrow();
    // hosts reach each other and the apt cache on the gateway
    expect(ssh(fleet.hosts[0]!.address, "python3 -c 'import socket; socket.create_connection((\"10.213.99.11\", 22), 3); socket.create_connection((\"10.213.99.1\", 3242), 3); print(\"ok\")'")).toBe('ok');
    veths = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', fleet.bridge], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
    expect(veths).toHaveLength(2);
    expect(execFileSync('nft', ['list', 'table', 'inet', nftTableName(fleet.bridge)], { encoding: 'utf8' })).toContain('masquerade');
  });

  test('up again changes nothing', async () => {
    const knownHosts = readFileSync(fleet.knownHosts, 'utf8');
    const pids = bootedPids();
    const r = await labUp(fleet, { installDeps: false }, emit);
    expect(r.booted).toEqual([]);
    expect(r.alreadyRunning.sort()).toEqual(['e2e-a', 'e2e-b']);
    expect(readFileSync(fleet.knownHosts, 'utf8')).toBe(knownHosts);
    expect(bootedPids()).toEqual(pids);
    expect(await labStatus(fleet)).toEqual(fleet.hosts.map((h) => ({ ...h, running: true, ssh: true })));
  });

  test('reset gives a host a fresh disk and a new host key, never accepted silently; the other host is untouched', async () => {
    const [a, b] = fleet.hosts as [(typeof fleet.hosts)[0], (typeof fleet.hosts)[0]];
    const oldKey = knownHostLine(a.address)!;
    const otherKey = knownHostLine(b.address);
    const oldId = ssh(a.address, 'cat /etc/machine-id; touch /root/was-here');
    const r = await labReset(fleet, a.name, emit);
    // a lost machine's replacement: known_hosts keeps the OLD key, as production's would; the new
    // key's fingerprint is what the operator learns out of band (for `provision rebuild --fingerprint`)
    expect(knownHostLine(a.address)).toBe(oldKey);
    expect(`${a.address} ${r.hostKey}`).not.toBe(oldKey);
    expect(knownHostLine(b.address)).toBe(otherKey);
    const keyFile = path.join(tmp, 'new-key.pub');
    writeFileSync(keyFile, `${r.hostKey}\n`);
    expect(execFileSync('ssh-keygen', ['-l', '-f', keyFile], { encoding: 'utf8' }).split(' ')[1]).toBe(r.fingerprint);
    // strict host-key checking refuses the new machine until its key is learnt
    expect(() => ssh(a.address, 'true')).toThrow(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    writeFileSync(fleet.knownHosts, readFileSync(fleet.knownHosts, 'utf8').replace(oldKey, `${a.address} ${r.hostKey}`));
    expect(ssh(a.address, 'cat /etc/machine-id; test -e /root/was-here && echo survived || echo wiped')).toBe(`${ssh(a.address, 'cat /etc/machine-id')}\nwiped`);
    expect(ssh(a.address, 'cat /etc/machine-id')).not.toBe(oldId.split('\n')[0]);
    expect(ssh(b.address, 'hostname')).toBe(b.name);
  });

  test('down leaves no container process, mount, link or nft table of ours', async () => {
    const acng = events.flatMap((e) => (e.type === 'lab.aptcache.started' ? [e.pid] : []));
    expect(acng.length).toBeGreaterThan(0);
    await labDown(fleet, emit, { wipe: true });
    for (const pid of [...bootedPids(), ...acng]) expect(alive(pid)).toBe(false);
    const ps = execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' }).split('\n').filter((l) => !l.startsWith('Z'));
    expect(ps.filter((l) => l.includes(stateDir) || l.includes(`--network-bridge=${fleet.bridge}`))).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(stateDir);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(path.join(STATE_DIR, 'net', fleet.bridge))).toBe(false);
    const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
    expect(links).not.toContain(fleet.bridge);
    for (const v of veths) expect(links).not.toContain(v);
    const ruleset = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
    expect(ruleset).not.toContain(nftTableName(fleet.bridge));
    expect(ruleset).not.toContain('10.213.99.');
    expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' })).not.toContain('10.213.99.');
    // ip_forward is ours no more (restored, or still held by another lab bridge)
    const fwd = path.join(STATE_DIR, 'ip_forward.json');
    if (existsSync(fwd)) expect(JSON.parse(readFileSync(fwd, 'utf8')).bridges).not.toContain(fleet.bridge);
  });
});
