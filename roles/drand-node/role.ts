// drand-node: a League of Entropy beacon node (seed 000 "Guidelines for drand Nodes"). Isolated
// from the internet: its gRPC port is open to the other drand nodes and its HTTP relays only, metrics
// to monitoring only, the control port and the HTTP API stay on localhost (relays and CDNs serve the
// public). The daemon runs as a dedicated system user in a systemd sandbox that may write its folder
// and nothing else.
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole, type HostView, type RoleContext } from '../../src/roles/types.js';
import { sh } from '../../src/shell/quote.js';
import { localUrlHost, MONITORING, parseCidr, Port, resolveSources, Source as source, splitHostPort } from '../../src/roles/net.js';
import * as pinned from '../../src/roles/daemon.js';
import { encryptedDiskCheck, encryptedDiskFact, type EncryptedDiskFact } from '../../src/roles/facts.js';

export const BINARY_PATH = '/usr/local/bin/drand';
export const RESTART_DRAND = 'restart drand';

const Source = source();

const vars = Type.Object(
  {
    binary: pinned.binarySchema('the drand binary'),
    beacon_id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', default: 'default' }),
    folder: Type.String({ pattern: '^(/[A-Za-z0-9_][A-Za-z0-9._-]*)+$', maxLength: 256, default: '/var/lib/drand', description: "drand's --folder" }),
    listen_address: Type.Union([Type.String({ pattern: '^[0-9A-Fa-f:.]+$' }), Type.Null()], {
      default: null,
      description: 'address of --private-listen and --metrics; null: the inventory address of the host',
    }),
    private_port: Port(4444),
    control_port: Port(8888),
    metrics_port: Port(9080),
    public_listen: Type.String({
      pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):[0-9]{1,5}$',
      default: '127.0.0.1:8080',
      description: 'HTTP API (--public-listen); local by default: the health check uses it, relays serve the public',
    }),
    network_group: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Type.Null()], {
      default: null,
      description: 'inventory group of this drand network: its other drand-node hosts are the gRPC peers; null: every drand-node host',
    }),
    extra_peers: Type.Array(Source, {
      default: [],
      description: 'more sources for the gRPC port: other operators\' nodes, relays (addresses, CIDRs or inventory hosts)',
    }),
    http_relays: Type.Union([Type.Array(Source), Type.Literal('auto')], {
      default: 'auto',
      description:
        "who else may open the gRPC port as an HTTP relay: 'auto' = every drand-http-relay host of the inventory; a list replaces it ([] = none)",
    }),
    encrypted_disk: Type.Union([Type.Literal('enforce'), Type.Literal('warn')], {
      default: 'enforce',
      description: 'the folder must be on an encrypted block device (seed 000): enforce fails the plan, warn warns; skipped in a container',
    }),
    ...pinned.daemonVars('drand', '--verbose'),
  },
  { additionalProperties: false },
);

type Vars = Static<typeof vars>;
type Ctx = Omit<RoleContext<Vars>, 'openings' | 'template'>;

const BINARY = { varPath: 'drand-node.binary', target: BINARY_PATH, label: 'drand', notify: [RESTART_DRAND] };

/** The pin check: pure, throws when the bytes are not the pinned ones (shared code: ./binary.ts). */
export const checkPin = (bytes: Buffer, pin: string, label: string): void => pinned.checkPin(bytes, pin, label, BINARY.varPath);

/** Read `binary.file` (relative to the repo root) and check it against the pin. */
export const readPinnedFile = (rel: string, pin: string, repoPath: (p: string) => string): Buffer =>
  pinned.readPinnedFile(rel, pin, repoPath, BINARY.varPath);

/** The other drand nodes of this node's network (never the node itself, by name or by address). */
export function drandPeers(ctx: Pick<Ctx, 'host' | 'inventory' | 'vars'>): HostView[] {
  const group = ctx.vars.network_group;
  const members = group === null ? ctx.inventory.hosts : ctx.inventory.group(group);
  if (group !== null && !members.some((h) => h.name === ctx.host.name)) {
    throw new Error(`drand-node.network_group: host ${ctx.host.name} is not in group "${group}"`);
  }
  return members.filter((h) => h.roles.includes('drand-node') && h.name !== ctx.host.name && h.address !== ctx.host.address);
}

/**
 * The HTTP relays that may open the gRPC port. 'auto': every host of the inventory carrying
 * drand-http-relay (a role sees other hosts' names, groups and roles, not their vars, so it cannot
 * tell which node a relay's grpc_connect picked; one inventory is usually one drand network — with
 * two, list the relays of each network here). Never the node itself.
 */
export function relayPeers(ctx: Pick<Ctx, 'host' | 'inventory' | 'vars'>): string[] {
  const v = ctx.vars.http_relays;
  if (v !== 'auto') return v;
  return ctx.inventory.hosts
    .filter((h) => h.roles.includes('drand-http-relay') && h.name !== ctx.host.name && h.address !== ctx.host.address)
    .map((h) => h.name);
}

function listenAddress(ctx: Ctx): string {
  const a = ctx.vars.listen_address ?? ctx.host.address;
  const c = parseCidr(a);
  if (!c || c.text.includes('/')) throw new Error(`drand-node: listen address "${a}" of ${ctx.host.name} is not an IP address`);
  return c.family === 6 ? `[${c.text}]` : c.text;
}

export default defineRole({
  name: 'drand-node',
  description: 'drand beacon node: dedicated user, sandboxed daemon, gRPC open to its peers only',
  vars,
  // converged and checked on both in the lab (docs/releases.md)
  releases: ['debian-12', 'debian-13'],
  // Seed 000 "Resource Recommendations", drand node: compute comparable to x86-64 at the AWS
  // 'micro' tier (t3.micro: 2 vCPU, burstable; we ask for 1 full core), 8 GB memory, at least 32 GB
  // of persistent storage, at least 1 Mbps of dedicated bandwidth. Checked values are what such a
  // machine reports: 8 GB → ≥ 7.5 GiB MemTotal, a 32 GB disk → ≥ 29 GiB filesystem.
  // diskPath is the default folder (sizing cannot follow a per-host `folder` var).
  sizing: {
    cpus: 1,
    memoryGiB: 7.5,
    diskGiB: 29,
    diskPath: '/var/lib/drand',
    bandwidthMbps: 1,
    arch: ['x86_64'],
    source: 'seed 000 (drand ops guide) "Resource Recommendations": x86-64 ≥ AWS micro tier, 8 GB memory, ≥ 32 GB persistent storage, ≥ 1 Mbps dedicated',
  },
  placement: {
    // seed 000: relays never on the node's machine; DESIGN: a bastion carries no node role
    notWith: ['drand-http-relay', 'bastion'],
    // the gossip relay (seed 000: not with nodes or HTTP relays) states its own rule once its role exists: a rule naming no role is an error
    // seed 000: "Must be isolated from the public internet"
    private: true,
  },
  accounts: ['drand'],

  openings(ctx) {
    const peers = drandPeers(ctx).map((h) => h.name);
    const relays = relayPeers(ctx);
    const group = ctx.vars.network_group ?? 'the inventory';
    return [
      // seed 000: "Whitelist incoming ... connections from other drand Nodes", "only ... the drand-grpc port"
      {
        port: ctx.vars.private_port,
        proto: 'tcp',
        from: [...peers, ...ctx.vars.extra_peers],
        comment: `drand gRPC from the other drand nodes of ${group}${ctx.vars.extra_peers.length ? ' and drand-node.extra_peers' : ''}`,
      },
      // seed 000: "Whitelist or authenticate access from Relays and CDN endpoints" — the HTTP
      // relays read the beacons over gRPC. Only when there are some: the lab ruleset stays as it was.
      ...(relays.length
        ? [{ port: ctx.vars.private_port, proto: 'tcp' as const, from: relays, comment: `drand gRPC from the HTTP relays (drand-node.http_relays${ctx.vars.http_relays === 'auto' ? ': auto' : ''})` }]
        : []),
      // seed 000 "Metrics": Prometheus endpoint of the application, monitoring only (DESIGN "Security")
      {
        port: ctx.vars.metrics_port,
        proto: 'tcp',
        from: ctx.vars.metrics_from ?? [MONITORING],
        comment: ctx.vars.metrics_from ? 'drand metrics from drand-node.metrics_from' : 'drand metrics from base.monitoring',
      },
    ];
  },

  resources(ctx) {
    const v = ctx.vars;
    drandPeers(ctx); // an error in network_group shows here too
    resolveSources(v.extra_peers, ctx.inventory.hosts, 'drand-node.extra_peers');
    if (v.http_relays !== 'auto') resolveSources(v.http_relays, ctx.inventory.hosts, 'drand-node.http_relays');
    if (v.metrics_from) resolveSources(v.metrics_from, ctx.inventory.hosts, 'drand-node.metrics_from');
    splitHostPort(v.public_listen, 'drand-node.public_listen');
    const addr = listenAddress(ctx);
    const beacon = `${v.folder}/multibeacon/${v.beacon_id}`;

    return pinned.daemon({
      service: 'drand',
      user: 'drand',
      home: v.folder,
      // drand's --folder layout: multibeacon/<beacon id>/{key,groups,db}; 0700, drand's only
      dirs: [v.folder, `${v.folder}/multibeacon`, beacon, `${beacon}/key`, `${beacon}/groups`, `${beacon}/db`],
      // curl: the URL download and the health check
      packages: ['curl', ...v.extra_packages],
      binary: v.binary,
      target: BINARY,
      repoPath: ctx.repoPath,
      restartHandler: RESTART_DRAND,
      unit: ctx.template('drand.service', {
        host: ctx.host.name,
        beaconId: v.beacon_id,
        binary: BINARY_PATH,
        privateListen: `${addr}:${v.private_port}`,
        publicListen: v.public_listen,
        controlPort: v.control_port,
        metricsListen: `${addr}:${v.metrics_port}`,
        folder: v.folder,
        extraArgs: v.extra_args,
      }),
    }).resources;
  },

  // seed 000 "Drand Machines": "Encrypt disks containing drand configuration files" (key/ holds the
  // node's private key): checked on the host like sizing.
  facts: (ctx) => ({ folderDisk: encryptedDiskFact(ctx.vars.folder) }),
  checks: (ctx) => [
    encryptedDiskCheck('the drand folder', ctx.fact<EncryptedDiskFact>('folderDisk'), ctx.vars.encrypted_disk, 'seed 000: "Encrypt disks containing drand configuration files"'),
  ],

  handlers() {
    return pinned.daemonHandlers({ service: 'drand', restartHandler: RESTART_DRAND });
  },

  // Seed 000: "Securely back up key and group folders". The node's key pair, its group files and
  // its beacon database; drand holds the database open, so the snapshot stops it for the few
  // seconds restic takes (a beacon network tolerates one node down; the timer spreads the nodes).
  state(ctx) {
    const beacon = `${ctx.vars.folder}/multibeacon/${ctx.vars.beacon_id}`;
    return { paths: [`${beacon}/key`, `${beacon}/groups`, `${beacon}/db`], consistency: { stop: ['drand'] }, services: ['drand'] };
  },

  health(ctx) {
    const { host, port } = splitHostPort(ctx.vars.public_listen, 'drand-node.public_listen');
    const local = localUrlHost(host);
    // "drand is running" is the service resource's job (probed, and verified after every apply);
    // the health check asks what only the daemon can answer.
    return [
      {
        // seed 000 "API Monitoring": /health answers 200 when the node is at most one round behind
        name: 'drand /health answers 200',
        script: `curl -fsS --max-time 5 -o /dev/null ${sh(`http://${local}:${port}/health`)}`,
        timeoutSeconds: 90,
      },
    ];
  },
});
