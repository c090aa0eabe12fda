// snapshot: the snapshot job of a host with state (seed 000: "Securely back up key and group
// folders", "Regularly back up node configurations"; seed 001: snapshots "on a separate server").
// It backs up what the host's OTHER roles declare as their state (RoleDefinition.state), with each
// declaration's consistency step, to this host's restic repository on the snapshot server — over
// SSH into the server's append-only rclone, so a compromised host can add snapshots but never
// delete or rewrite its history. A systemd timer runs it; the last success is a node exporter
// metric. `provision snapshot` runs it now, `provision rebuild` restores from it.
import { Type } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole, type HostState } from '../../src/roles/types.js';
import { Secret } from '../../src/secrets/value.js';
import { sh } from '../../src/shell/quote.js';
import { clientKey, repositoryPassword, SERVER_USER, serverHostKey, SNAPSHOT_SSH_PORT, snapshotServer } from '../../src/roles/snapshots.js';

/** Debian's prometheus-node-exporter reads *.prom files here (its textfile collector's default directory). */
export const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
export const SNAPSHOT_SCRIPT = '/usr/local/sbin/provision-snapshot';
export const SNAPSHOT_UNIT = 'provision-snapshot.service';
const CONF = '/etc/provision/snapshot';
const UNIT_NAME = /^[A-Za-z0-9@._-]+$/;

const vars = Type.Object(
  {
    master: Secret(Type.String({ minLength: 24 })),
    schedule: Type.String({ pattern: '^[A-Za-z0-9 *:,./~-]+$', default: 'daily', description: 'systemd OnCalendar= of the snapshot timer' }),
    randomized_delay: Type.String({ pattern: '^[0-9]+(s|min|h)$', default: '1h', description: 'RandomizedDelaySec= (spreads the hosts, and a network\'s nodes, over time)' }),
  },
  { additionalProperties: false },
);

/** What the job's script needs from the declarations: quoted paths, the stops and dumps. */
export function jobSteps(state: HostState[]) {
  const stops = state.flatMap((s) => ('stop' in s.consistency ? s.consistency.stop.map((service) => ({ role: s.role, service })) : []));
  for (const { role, service } of stops) if (!UNIT_NAME.test(service)) throw new Error(`role ${role}: state stops "${service}", which is not a unit name`);
  const dumps = state.flatMap((s) => ('dump' in s.consistency ? [{ role: s.role, command: s.consistency.dump.command, restore: s.consistency.dump.restore, file: sh(s.consistency.dump.file) }] : []));
  const paths = [...new Set(state.flatMap((s) => s.paths))].map((p) => sh(p));
  return { stops, dumps, paths };
}

export default defineRole({
  name: 'snapshot',
  description: "snapshot job: the host's declared state to its append-only restic repository on the snapshot server, daily",
  vars,
  releases: ['debian-12', 'debian-13'],
  placement: { notWith: ['snapshot-server'] },

  resources(ctx) {
    const state = ctx.state;
    if (!state.length) throw new Error(`snapshot: no role of host ${ctx.host.name} declares state to back up (${ctx.host.roles.join(', ')}); remove role snapshot from it`);
    const server = snapshotServer(ctx.inventory.hosts, ctx.host);
    const key = clientKey(ctx.vars.master, ctx.host.name);
    const hostKey = serverHostKey(ctx.vars.master, server.name);
    const steps = jobSteps(state);
    const unitData = { host: ctx.host.name, server: server.name, schedule: ctx.vars.schedule, delay: ctx.vars.randomized_delay };
    return [
      r.apt({ name: ['restic', 'openssh-client'] }),
      r.directory({ path: '/etc/provision', owner: 'root', group: 'root', mode: '0755' }),
      r.directory({ path: CONF, owner: 'root', group: 'root', mode: '0700' }),
      r.file({ path: `${CONF}/password`, content: repositoryPassword(ctx.vars.master, ctx.host.name), owner: 'root', group: 'root', mode: '0600' }),
      r.file({ path: `${CONF}/id_ed25519`, content: key.privateKey, owner: 'root', group: 'root', mode: '0600' }),
      r.file({ path: `${CONF}/id_ed25519.pub`, content: `${key.publicKey}\n`, owner: 'root', group: 'root', mode: '0644' }),
      // the snapshot service's host key is pinned: a server that cannot show it gets nothing
      r.file({ path: `${CONF}/known_hosts`, content: `[${server.address}]:${SNAPSHOT_SSH_PORT} ${hostKey.publicKey}\n`, owner: 'root', group: 'root', mode: '0644' }),
      r.directory({ path: '/usr/local/lib/provision-snapshot', owner: 'root', group: 'root', mode: '0755' }),
      r.file({
        path: '/usr/local/lib/provision-snapshot/ssh',
        content: ctx.template('ssh', { port: SNAPSHOT_SSH_PORT, user: SERVER_USER, address: server.address }),
        mode: '0755',
      }),
      r.file({
        path: SNAPSHOT_SCRIPT,
        content: ctx.template('provision-snapshot', {
          host: ctx.host.name,
          hostQ: sh(ctx.host.name),
          repo: sh(`rclone:${ctx.host.name}`),
          server: server.name,
          metricsDir: sh(TEXTFILE_DIR),
          ...steps,
        }),
        mode: '0755',
        validate: 'sh -n %s',
      }),
      r.directory({ path: '/var/lib/provision-snapshot', owner: 'root', group: 'root', mode: '0700' }),
      r.systemdUnit({ name: SNAPSHOT_UNIT, content: ctx.template('provision-snapshot.service', unitData) }),
      r.systemdUnit({ name: 'provision-snapshot.timer', content: ctx.template('provision-snapshot.timer', unitData) }),
      r.service({ name: 'provision-snapshot.timer', enabled: true, running: true }),
    ];
  },

  health: () => [{ name: 'snapshot timer scheduled', script: 'systemctl is-active --quiet provision-snapshot.timer' }],
});
