// log-collector: the receiving end of the log shipping that role base sets up on every host
// (base.log_host). Seed 000 "Logs": "Collect and ship logs to an external service" and "Monitor log
// collection" — the shipped logs must land somewhere that is not the host that wrote them.
import { Type } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole } from '../../src/roles/types.js';
import { sh } from '../../src/shell/quote.js';
import { Port, Source as source } from '../../src/roles/net.js';

const Source = source();
const RESTART_RSYSLOG = 'restart rsyslog'; // the same handler role base defines

const vars = Type.Object(
  {
    port: Port(514, 'TCP port rsyslog listens on (base.log_host points here)'),
    dir: Type.String({ pattern: '^(/[A-Za-z0-9_][A-Za-z0-9._-]*)+$', default: '/var/log/remote', description: 'one <sender>.log per host' }),
    from: Type.Union([Type.Array(Source), Type.Null()], {
      default: null,
      description: 'who may send logs; null: every host of the inventory',
    }),
  },
  { additionalProperties: false },
);

export default defineRole({
  name: 'log-collector',
  description: 'receives the logs every host ships (rsyslog over TCP), one file per sender',
  vars,
  // converged and checked on both in the lab (docs/releases.md)
  releases: ['debian-12', 'debian-13'],
  // Our choice, not a seed's: a few weeks of syslog from a small fleet; monitor it like any disk.
  sizing: { cpus: 1, memoryGiB: 0.9, diskGiB: 20, diskPath: '/var/log/remote', source: 'provision: room for a few weeks of syslog from a small fleet' },

  openings: (ctx) => [
    {
      port: ctx.vars.port,
      proto: 'tcp',
      from: ctx.vars.from ?? ctx.inventory.hosts.filter((h) => h.name !== ctx.host.name).map((h) => h.name),
      comment: 'syslog from the fleet (log-collector)',
    },
  ],

  resources: (ctx) => [
    r.apt({ name: 'rsyslog' }),
    r.directory({ path: ctx.vars.dir, owner: 'root', group: 'adm', mode: '0750' }),
    r.file({
      path: '/etc/rsyslog.d/10-provision-receive.conf',
      content: ctx.template('rsyslog-receive.conf', { port: ctx.vars.port, dir: ctx.vars.dir }),
      validate: 'rsyslogd -N1 -f %s',
      notify: [RESTART_RSYSLOG],
    }),
    r.service({ name: 'rsyslog', enabled: true, running: true }),
  ],

  handlers: () => ({ [RESTART_RSYSLOG]: r.restartHandler('rsyslog') }),

  health: (ctx) => [{ name: `rsyslog receives on tcp/${ctx.vars.port}`, script: `ss -Hltn ${sh(`sport = :${ctx.vars.port}`)} | grep -q .`, timeoutSeconds: 15 }],
});
