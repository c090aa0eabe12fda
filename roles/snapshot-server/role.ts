// snapshot-server: where the hosts' snapshots live, on a machine of its own (seed 001: snapshots
// "on a separate server"). One restic repository per client host. Clients reach it through a
// dedicated sshd whose every key is forced into `rclone serve restic --stdio --append-only` on
// that client's repository: a client can add snapshots, never delete or rewrite any (restic's
// plain SFTP or REST backends would let a compromised host erase its history). Retention
// (`forget --keep-within`, `prune`) and `restic check` run here, on timers, as the repositories'
// owner. Debian's restic and rclone only. The choice and its limits: docs/disaster-recovery.md.
import { Type } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole } from '../../src/roles/types.js';
import { Secret } from '../../src/secrets/value.js';
import { sh } from '../../src/shell/quote.js';
import { clientKey, repoPath, repositoryPassword, REPO_ROOT, SERVER_USER, serverHostKey, SNAPSHOT_SSH_PORT, snapshotClients } from '../../src/roles/snapshots.js';

const DIR = '/etc/provision/snapshot-server';
const RESTART = 'restart snapshot sshd';
const Calendar = (dflt: string, what: string) => Type.String({ pattern: '^[A-Za-z0-9 *:,./~-]+$', default: dflt, description: `systemd OnCalendar= of ${what}` });

const vars = Type.Object(
  {
    master: Secret(Type.String({ minLength: 24 })),
    keep_within: Type.String({ pattern: '^([0-9]+[ymdh])+$', default: '90d', description: 'restic forget --keep-within (relative to each repository\'s newest snapshot)' }),
    forget_schedule: Calendar('daily', 'forget + prune'),
    check_schedule: Calendar('weekly', 'restic check'),
  },
  { additionalProperties: false },
);

/** One authorized_keys line: the client's key, forced into append-only rclone on its own repository. */
export const forcedKeyLine = (client: string, publicKey: string): string =>
  `restrict,command="rclone serve restic --stdio --append-only --config /dev/null ${repoPath(client)}" ${publicKey}`;

export default defineRole({
  name: 'snapshot-server',
  description: 'restic repository per client behind append-only rclone (SSH forced command); retention and check on timers',
  vars,
  releases: ['debian-12', 'debian-13'],
  // Our choice: room for the snapshots of a small fleet (state is keys, groups, databases).
  sizing: { cpus: 1, memoryGiB: 0.9, diskGiB: 20, diskPath: REPO_ROOT, source: 'provision: the repositories of a small fleet; watch its disk like any other' },
  placement: { notWith: ['snapshot', 'drand-node', 'bastion'] },
  accounts: [SERVER_USER],

  openings: (ctx) => [
    { port: SNAPSHOT_SSH_PORT, proto: 'tcp', from: snapshotClients(ctx.inventory.hosts).map((h) => h.name), comment: 'snapshots from the hosts with role snapshot' },
  ],

  resources(ctx) {
    const clients = snapshotClients(ctx.inventory.hosts);
    for (const c of clients) if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.name)) throw new Error(`snapshot-server: client name "${c.name}" cannot name a repository directory`);
    const hostKey = serverHostKey(ctx.vars.master, ctx.host.name);
    const data = { host: ctx.host.name, dir: DIR, user: SERVER_USER, port: SNAPSHOT_SSH_PORT, address: ctx.host.address };
    const maintenance = (action: 'forget' | 'check', what: string, schedule: string): r.Resource[] => [
      r.systemdUnit({ name: `provision-snapshot-${action}.service`, content: ctx.template('snapshot-maintenance.service', { ...data, action, what }) }),
      r.systemdUnit({ name: `provision-snapshot-${action}.timer`, content: ctx.template('snapshot-maintenance.timer', { ...data, what, schedule }) }),
      r.service({ name: `provision-snapshot-${action}.timer`, enabled: true, running: true }),
    ];
    return [
      r.apt({ name: ['restic', 'rclone', 'openssh-server'] }),
      r.group({ name: SERVER_USER, system: true }),
      // a shell: sshd runs the forced command through it
      r.user({ name: SERVER_USER, system: true, home: REPO_ROOT, shell: '/bin/sh', groups: [] }),
      r.directory({ path: REPO_ROOT, owner: SERVER_USER, group: SERVER_USER, mode: '0700' }),
      ...clients.map((c) => r.directory({ path: repoPath(c.name), owner: SERVER_USER, group: SERVER_USER, mode: '0700' })),
      r.directory({ path: '/etc/provision', owner: 'root', group: 'root', mode: '0755' }),
      r.directory({ path: DIR, owner: 'root', group: 'root', mode: '0755' }),
      // the repositories' passwords: retention and check need them; only their owner reads them
      r.directory({ path: `${DIR}/passwords`, owner: 'root', group: SERVER_USER, mode: '0750' }),
      ...clients.map((c) => r.file({ path: `${DIR}/passwords/${c.name}`, content: repositoryPassword(ctx.vars.master, c.name), owner: 'root', group: SERVER_USER, mode: '0640' })),
      r.file({ path: `${DIR}/ssh_host_ed25519_key`, content: hostKey.privateKey, owner: 'root', group: 'root', mode: '0600', notify: [RESTART] }),
      r.file({ path: `${DIR}/ssh_host_ed25519_key.pub`, content: `${hostKey.publicKey}\n`, owner: 'root', group: 'root', mode: '0644' }),
      r.file({
        path: `${DIR}/authorized_keys`,
        content: `# Managed by provision (role snapshot-server): one key per client, append-only on its own repository.\n${clients.map((c) => forcedKeyLine(c.name, clientKey(ctx.vars.master, c.name).publicKey)).join('\n')}\n`,
        owner: 'root',
        group: 'root',
        mode: '0644',
      }),
      r.file({ path: `${DIR}/sshd_config`, content: ctx.template('sshd_config', data), mode: '0644', validate: '/usr/sbin/sshd -t -f %s', notify: [RESTART] }),
      r.systemdUnit({ name: 'snapshot-sshd.service', content: ctx.template('snapshot-sshd.service', data), notify: [RESTART] }),
      r.service({ name: 'snapshot-sshd', enabled: true, running: true }),
      r.file({
        path: '/usr/local/sbin/provision-snapshot-server',
        content: ctx.template('provision-snapshot-server', { ...data, clients: clients.map((c) => sh(c.name)), root: sh(REPO_ROOT), keepWithin: ctx.vars.keep_within }),
        mode: '0755',
        validate: 'sh -n %s',
      }),
      ...maintenance('forget', `forget --keep-within ${ctx.vars.keep_within} and prune`, ctx.vars.forget_schedule),
      ...maintenance('check', 'restic check', ctx.vars.check_schedule),
    ];
  },

  handlers: () => ({ [RESTART]: r.restartHandler('snapshot-sshd') }),

  health: () => [
    { name: `snapshot sshd listening on tcp/${SNAPSHOT_SSH_PORT}`, script: `ss -Hltn 'sport = :${SNAPSHOT_SSH_PORT}' | grep -q .`, timeoutSeconds: 15 },
  ],
});
