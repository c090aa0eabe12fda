// Snapshots: what roles declare as state, the client job built from it (consistency steps in the
// script, secrets only in 0600 files), the server's append-only forced command per client key, and
// the one cross-host glue module (src/roles/snapshots.ts): keys and passwords derived from one
// master, so a rebuilt host gets the same ones, and each side pins/authorises the other's.
import { describe, test, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, find, labHosts, tpl, type Built } from './helpers.js';
import type { HostView } from '../../../src/roles/types.js';
import { SecretValue } from '../../../src/secrets/value.js';
import { clientKey, repositoryPassword, serverHostKey, snapshotServer } from '../../../src/roles/snapshots.js';
import { jobSteps } from '../../../roles/snapshot/role.js';
import { forcedKeyLine } from '../../../roles/snapshot-server/role.js';

const MASTER = 'lab-master-0123456789abcdefghij';
const master = () => new SecretValue(MASTER);

/** The lab fleet with a snapshot server and the snapshot role on the bastion and the drand nodes. */
function fleet(): HostView[] {
  const hosts = labHosts().map((h) => (h.roles.includes('drand-node') || h.roles.includes('bastion') ? { ...h, roles: [...h.roles, 'snapshot'] } : h));
  hosts.push({ name: 'snap-1', address: '10.213.7.50', groups: ['all', 'snapshot_servers'], roles: ['base', 'snapshot-server'], provider: 'lab', jump: 'bastion-1' });
  return hosts;
}
const vars = { snapshot: { master: MASTER }, 'snapshot-server': { master: MASTER } };
const on = (host: string): Built => build({ host, hosts: fleet(), vars });

describe('roles declare their state', () => {
  test('drand-node: key/, groups/ and db/ of its beacon, drand stopped while they are read', () => {
    const b = on('drand-1');
    expect(b.state).toEqual([
      {
        role: 'drand-node',
        paths: ['/var/lib/drand/multibeacon/default/key', '/var/lib/drand/multibeacon/default/groups', '/var/lib/drand/multibeacon/default/db'],
        consistency: { stop: ['drand'] },
        services: ['drand'],
      },
    ]);
  });

  test("bastion: each present operator's TOTP secret; none without operators", () => {
    const b = build({
      host: 'bastion-1',
      hosts: fleet(),
      vars: { ...vars, bastion: { operators: [{ name: 'alice', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5ZN3wRyy5yN6fWYSkE2p8fXU+AhBJuyjUdblb+XqTJ a'] }, { name: 'bob', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5ZN3wRyy5yN6fWYSkE2p8fXU+AhBJuyjUdblb+XqTJ b'], state: 'absent' }], allow_from: ['192.0.2.0/24'] } },
    });
    expect(b.state).toHaveLength(1);
    expect(b.state[0]!.paths).toEqual(['/home/alice/.google_authenticator']);
    expect('none' in b.state[0]!.consistency).toBe(true);
    const none = build({ host: 'bastion-1', hosts: fleet().map((h) => (h.name === 'bastion-1' ? { ...h, roles: ['base', 'bastion'] } : h)), vars: { ...vars, bastion: { operators: [], allow_from: [] } } });
    expect(none.state).toEqual([]);
  });

  test('a dump-command declaration: dumped before the backup, loaded after a restore', () => {
    const steps = jobSteps([
      { role: 'ledger', paths: ['/var/backups/ledger/ledger.tar'], consistency: { dump: { command: 'tar -C /var/lib/ledger -cf - .', file: '/var/backups/ledger/ledger.tar', restore: 'tar -C /var/lib/ledger -xf -' } }, services: ['ledger'] },
    ]);
    expect(steps.dumps).toEqual([{ role: 'ledger', command: 'tar -C /var/lib/ledger -cf - .', restore: 'tar -C /var/lib/ledger -xf -', file: '/var/backups/ledger/ledger.tar' }]);
    // every path is quoted for the shell
    expect(jobSteps([{ role: 'x', paths: ["/srv/it's here"], consistency: { none: 'test' }, services: [] }]).paths).toEqual([`'/srv/it'\\''s here'`]);
    expect(steps.stops).toEqual([]);
    expect(() => jobSteps([{ role: 'x', paths: ['/a'], consistency: { stop: ['bad name;reboot'] }, services: [] }])).toThrow(/not a unit name/);
  });
});

describe('snapshot: the client job', () => {
  const b = on('drand-1');
  const script = tpl(b, 'snapshot/provision-snapshot');

  test('the script stops drand around the backup of the declared paths, starts it again on any exit, and parses', () => {
    expect(script).toContain("if systemctl is-active --quiet drand; then systemctl stop drand; STOPPED=\"$STOPPED drand\"; fi");
    expect(script).toContain('trap start_again EXIT');
    expect(script).toContain('if [ -e /var/lib/drand/multibeacon/default/key ]; then set -- "$@" /var/lib/drand/multibeacon/default/key;');
    expect(script).toContain("--repo rclone:drand-1 --option rclone.program=/usr/local/lib/provision-snapshot/ssh");
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snap-')), 's.sh');
    fs.writeFileSync(f, script);
    execFileSync('sh', ['-n', f]);
  });

  test('secrets only in 0600 files (sensitive), the server key pinned, the job on a daily timer', () => {
    for (const id of ['file:/etc/provision/snapshot/password', 'file:/etc/provision/snapshot/id_ed25519']) {
      const r = find(b, id);
      expect(r.sensitive).toBe(true);
    }
    expect(find(b, 'file:/usr/local/sbin/provision-snapshot').sensitive).toBe(false);
    expect(tpl(b, 'snapshot/provision-snapshot.timer')).toContain('OnCalendar=daily');
    expect(tpl(b, 'snapshot/ssh')).toContain('-p 2222 restic@10.213.7.50');
    expect(tpl(b, 'snapshot/ssh')).toContain('StrictHostKeyChecking=yes');
  });

  test('one snapshot server, never the host itself; a host without state is refused', () => {
    const hosts = fleet();
    expect(snapshotServer(hosts, hosts.find((h) => h.name === 'drand-1')!).name).toBe('snap-1');
    expect(() => snapshotServer(hosts.filter((h) => h.name !== 'snap-1'), hosts[0]!)).toThrow(/exactly one host with role snapshot-server.*found 0/);
    const two = [...hosts, { ...hosts.find((h) => h.name === 'snap-1')!, name: 'snap-2', address: '10.213.7.51' }];
    expect(() => snapshotServer(two, hosts[0]!)).toThrow(/found 2 \(snap-1, snap-2\)/);
    const monitor = fleet().map((h) => (h.name === 'monitor-1' ? { ...h, roles: ['base', 'snapshot'] } : h));
    expect(() => build({ host: 'monitor-1', hosts: monitor, vars })).toThrow(/no role of host monitor-1 declares state/);
  });
});

describe('snapshot-server and the keys both sides derive', () => {
  const s = on('snap-1');

  test('each client key is forced into append-only rclone on its own repository', () => {
    const keys = tpl(s, 'snapshot-server/sshd_config');
    expect(keys).toContain('AllowUsers restic');
    expect(keys).toContain('AuthenticationMethods publickey');
    expect(keys).toContain('DisableForwarding yes');
    const pub = clientKey(master(), 'drand-1').publicKey;
    expect(forcedKeyLine('drand-1', pub)).toBe(`restrict,command="rclone serve restic --stdio --append-only --config /dev/null /srv/restic/drand-1" ${pub}`);
    expect(find(s, 'directory:/srv/restic/drand-1')).toBeTruthy();
    expect(find(s, 'directory:/srv/restic/bastion-1')).toBeTruthy();
    expect(find(s, 'file:/etc/provision/snapshot-server/ssh_host_ed25519_key').sensitive).toBe(true);
    expect(find(s, 'file:/etc/provision/snapshot-server/passwords/drand-2').sensitive).toBe(true);
    // only the clients may reach the snapshot sshd
    expect(s.openings.find((o) => o.port === 2222)!.from).toEqual(['bastion-1', 'drand-1', 'drand-2', 'drand-3']);
    expect(tpl(s, 'snapshot-server/provision-snapshot-server')).toContain('forget --keep-within 90d --prune');
  });

  test('derived keys are valid OpenSSH keys, stable, and differ per host', () => {
    const k = clientKey(master(), 'drand-1');
    expect(clientKey(master(), 'drand-1').privateKey.reveal()).toBe(k.privateKey.reveal());
    expect(clientKey(master(), 'drand-2').publicKey).not.toBe(k.publicKey);
    expect(repositoryPassword(master(), 'drand-1').reveal()).not.toBe(repositoryPassword(master(), 'drand-2').reveal());
    expect(serverHostKey(master(), 'snap-1').publicKey).not.toBe(k.publicKey);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapkey-'));
    fs.writeFileSync(path.join(dir, 'k'), k.privateKey.reveal(), { mode: 0o600 });
    // ssh-keygen -y reads the private key and prints its public half
    const pub = execFileSync('ssh-keygen', ['-y', '-f', path.join(dir, 'k')], { encoding: 'utf8' }).trim();
    expect(k.publicKey.startsWith(pub)).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  test('a client pins exactly the host key the server presents', () => {
    const c = on('drand-1');
    const pinned = c.all.find((r) => r.id === 'file:/etc/provision/snapshot/known_hosts')!;
    expect(pinned).toBeTruthy();
    expect(tpl(c, 'snapshot/ssh')).toContain('UserKnownHostsFile=/etc/provision/snapshot/known_hosts');
    expect(serverHostKey(master(), 'snap-1').publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\S+ snapshot-server@snap-1$/);
  });
});
