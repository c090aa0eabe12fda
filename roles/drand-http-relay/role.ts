// drand-http-relay: a public HTTP relay of a drand network (seed 000 "Guidelines for drand Relays",
// "CDN and HTTP Relays"). It reads the beacons from a drand node over gRPC and serves drand's HTTP
// API (/info, /health, /public/latest, /public/<round>) to the CDN in front of it: "Use dedicated
// HTTP-enabled Relays for CDN requests", "Limit HTTP relay traffic to CDN only", "Never co-locate
// HTTP relays with the drand node". Stateless, so it scales horizontally: add hosts to the group.
//
// The daemon is drand's `drand-relay-http` (drand v1 cmd/relay: urfave/cli flags --grpc-connect
// host:port, --bind host:port, --metrics host:port, --hash-list HASH (repeatable), --insecure,
// --cert FILE, --access-log FILE). It takes ONE --grpc-connect; see `pickNode` for the choice.
// It runs as a dedicated system user in a systemd sandbox that may write nothing.
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole, type HostView, type Opening, type RoleContext } from '../../src/roles/types.js';
import { sh } from '../../src/shell/quote.js';
import { localUrlHost, MONITORING, parseCidr, Port, resolveSources, Source as source, urlHost } from '../../src/roles/net.js';
import { binarySchema, daemon, daemonHandlers, daemonVars } from '../../src/roles/daemon.js';

export const BINARY_PATH = '/usr/local/bin/drand-relay-http';
export const RESTART_RELAY = 'restart drand-relay-http';
export const RELAY_USER = 'drand-relay';
export const DEFAULT_BIND_PORT = 8081;

const Source = source();
/** host[:port]: an inventory host name, an IPv4 address, [IPv6], or a DNS name (with a dot) */
const ENDPOINT = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9][A-Za-z0-9._-]*)(:[0-9]{1,5})?$';
const BIND = '^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):[0-9]{1,5}$';

const vars = Type.Object(
  {
    binary: binarySchema('the drand-relay-http binary'),
    network_group: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Type.Null()], {
      default: null,
      description: 'inventory group of the drand network whose drand-node hosts are the default grpc_connect; null: every drand-node host',
    }),
    grpc_connect: Type.Union([Type.Array(Type.String({ pattern: ENDPOINT, maxLength: 260 }), { minItems: 1 }), Type.Null()], {
      default: null,
      description:
        'the drand nodes to read from, host[:port] (inventory host, IP, [IPv6] or DNS name; port default grpc_port); ' +
        'null: the drand-node hosts of network_group. The relays of the inventory are spread over this list.',
    }),
    grpc_port: Port(4444),
    grpc_tls: Type.Boolean({
      default: false,
      description:
        "false: plaintext gRPC to the node (drand v2 nodes leave TLS to a proxy; the link is allowlisted both ways) — passes --insecure; true: TLS verified with the system CAs",
    }),
    chain_hashes: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), {
      default: [],
      description: 'chains to serve and to verify (--hash-list, the hash of /info); []: the node\'s default chain',
    }),
    bind: Type.Union([Type.String({ pattern: BIND }), Type.Null()], {
      default: null,
      description: `address:port of the HTTP API (--bind); null: the inventory address of the host, port ${DEFAULT_BIND_PORT}`,
    }),
    allow_from: Type.Union([Type.Array(Source), Type.Literal('any')], {
      default: [],
      description: "who may open the HTTP port: the CDN / load balancer addresses; 'any' (the whole internet) only when written so; []: closed",
    }),
    metrics_port: Type.Union([Port(), Type.Null()], {
      default: 9080,
      description: 'Prometheus metrics (--metrics) on the host address; null: no metrics',
    }),
    ...daemonVars('drand-relay-http', '--cert=/etc/drand-relay/node.pem'),
  },
  { additionalProperties: false },
);

type Vars = Static<typeof vars>;
type Ctx = Omit<RoleContext<Vars>, 'openings' | 'template'>;
type View = Pick<Ctx, 'host' | 'inventory' | 'vars'>;

const BINARY = { varPath: 'drand-http-relay.binary', target: BINARY_PATH, label: 'drand-relay-http', notify: [RESTART_RELAY] };

/** One grpc_connect entry → "address:port" (inventory host names become their address). */
export function resolveEndpoint(entry: string, hosts: readonly HostView[], defaultPort: number): string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9][A-Za-z0-9._-]*))(?::([0-9]{1,5}))?$/.exec(entry);
  const port = m?.[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!m || port < 1 || port > 65535) throw new Error(`drand-http-relay.grpc_connect: expected host[:port], got "${entry}"`);
  const name = (m[1] ?? m[2])!;
  const host = hosts.find((h) => h.name === name);
  if (host) {
    const a = parseCidr(host.address);
    if (!a || a.text.includes('/')) throw new Error(`drand-http-relay.grpc_connect: inventory host ${name} has address "${host.address}", which is not an IP address`);
    return `${urlHost(a.text)}:${port}`;
  }
  const ip = parseCidr(name);
  if (ip && !ip.text.includes('/')) return `${urlHost(ip.text)}:${port}`;
  // a DNS name of another operator's node; a bare word is a misspelt inventory host, not a name to resolve
  if (m[2] !== undefined && /\.[A-Za-z]/.test(name) && !ip) return `${name}:${port}`;
  throw new Error(`drand-http-relay.grpc_connect: "${name}" is neither a host of the inventory nor an IP address or DNS name`);
}

/** The drand nodes this relay may read from (grpc_connect, or the drand-node hosts of network_group), as address:port. */
export function nodeEndpoints(ctx: View): string[] {
  const v = ctx.vars;
  if (v.grpc_connect) return v.grpc_connect.map((e) => resolveEndpoint(e, ctx.inventory.hosts, v.grpc_port));
  const members = v.network_group === null ? ctx.inventory.hosts : ctx.inventory.group(v.network_group);
  const nodes = members.filter((h) => h.roles.includes('drand-node') && h.name !== ctx.host.name);
  if (nodes.length === 0) {
    throw new Error(
      `drand-http-relay: no drand node to connect to for ${ctx.host.name}: ` +
        (v.network_group === null ? 'no host of the inventory carries drand-node' : `group "${v.network_group}" has no drand-node host`) +
        '; set drand-http-relay.network_group or grpc_connect',
    );
  }
  return nodes.map((h) => resolveEndpoint(h.name, ctx.inventory.hosts, v.grpc_port));
}

/**
 * drand-relay-http dials one node. The relays of the inventory (by name) are spread over the list:
 * relay #i reads from entry i mod n, so two relays read from two nodes and the CDN keeps serving
 * when one node is down. A one-entry grpc_connect pins the node.
 */
export function pickNode(ctx: View): string {
  const list = nodeEndpoints(ctx);
  const relays = ctx.inventory.hosts.filter((h) => h.roles.includes('drand-http-relay')).map((h) => h.name).sort();
  const i = Math.max(0, relays.indexOf(ctx.host.name));
  return list[i % list.length]!;
}

/** The --bind address:port: the var, or the host's inventory address on the default port. */
export function bindOf(ctx: View): { host: string; port: number; text: string } {
  const text = ctx.vars.bind ?? `${urlHost(ctx.host.address)}:${DEFAULT_BIND_PORT}`;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  const host = m ? (m[1] ?? m[2])! : '';
  const port = m ? Number(m[3]) : NaN;
  const ip = parseCidr(host);
  if (!m || !ip || ip.text.includes('/') || port < 1 || port > 65535) {
    throw new Error(`drand-http-relay.bind: expected address:port (e.g. 0.0.0.0:${DEFAULT_BIND_PORT}) for ${ctx.host.name}, got "${text}"`);
  }
  return { host: ip.text, port, text: `${urlHost(ip.text)}:${port}` };
}

const isLoopback = (a: string): boolean => a === '::1' || a.startsWith('127.');

function metricsListen(ctx: View): string | null {
  if (ctx.vars.metrics_port === null) return null;
  const a = parseCidr(ctx.host.address);
  if (!a || a.text.includes('/')) throw new Error(`drand-http-relay: address "${ctx.host.address}" of ${ctx.host.name} is not an IP address`);
  return `${urlHost(a.text)}:${ctx.vars.metrics_port}`;
}

export default defineRole({
  name: 'drand-http-relay',
  description: 'drand HTTP relay: reads a drand node over gRPC, serves the HTTP API to the CDN only; dedicated user, sandboxed',
  vars,
  // converged and checked on both in the lab (docs/releases.md)
  releases: ['debian-12', 'debian-13'],
  // Seed 000 "Resource Recommendations", publicly-accessible HTTP relay: compute comparable to
  // x86-64 at the AWS 'micro' tier (t3.micro: 2 burstable vCPU; we check 1 full core), 32 GB of
  // memory "to keep all rounds cached in memory", 100 Mbps of network traffic, storage n/a (base's
  // 8 GB root disk is enough: the relay writes nothing). Checked as ≥ 30 GiB: a 32 GiB machine
  // reports ~31–31.5 GiB MemTotal (firmware, kernel and crashkernel reservations), VMs somewhat less.
  sizing: {
    cpus: 1,
    memoryGiB: 30,
    bandwidthMbps: 100,
    arch: ['x86_64'],
    source: 'seed 000 (drand ops guide) "Resource Recommendations", HTTP relay: x86-64 ≥ AWS micro tier, 32 GB memory (all rounds cached), 100 Mbps',
  },
  placement: {
    // seed 000: "Relays should be independent of the drand Node and not co-located on the same
    // machine", "Ensure gossip relays are not co-located with drand nodes or HTTP relays";
    // DESIGN: a bastion carries no node role. Not `private`: the relay serves the CDN (SSH still
    // goes through the bastion when the host has a jump host).
    notWith: ['drand-node', 'bastion'],
    // the gossip relay (seed 000: not with nodes or HTTP relays) states its own rule once its role exists: a rule naming no role is an error
  },
  accounts: [RELAY_USER],

  openings(ctx) {
    const v = ctx.vars;
    const bind = bindOf(ctx);
    const list: Opening[] = [
      // seed 000 "CDN and HTTP Relays": "Limit HTTP relay traffic to CDN only"
      {
        port: bind.port,
        proto: 'tcp',
        from: v.allow_from,
        comment:
          v.allow_from === 'any'
            ? 'drand HTTP relay from anywhere (drand-http-relay.allow_from: any)'
            : 'drand HTTP relay from the CDN / load balancers (drand-http-relay.allow_from)',
      },
    ];
    // seed 000 "Metrics": Prometheus endpoints of drand applications, monitoring only (DESIGN "Security")
    if (v.metrics_port !== null) {
      list.push({
        port: v.metrics_port,
        proto: 'tcp',
        from: v.metrics_from ?? [MONITORING],
        comment: v.metrics_from ? 'drand relay metrics from drand-http-relay.metrics_from' : 'drand relay metrics from base.monitoring',
      });
    }
    return list;
  },

  resources(ctx) {
    const v = ctx.vars;
    const hosts = ctx.inventory.hosts;
    const bind = bindOf(ctx);
    if (v.allow_from !== 'any') resolveSources(v.allow_from, hosts, 'drand-http-relay.allow_from');
    if (isLoopback(bind.host) && (v.allow_from === 'any' || v.allow_from.length > 0)) {
      throw new Error(`drand-http-relay.bind: ${bind.text} on ${ctx.host.name} is a loopback address; allow_from could never reach it`);
    }
    if (v.metrics_from) resolveSources(v.metrics_from, hosts, 'drand-http-relay.metrics_from');
    if (v.grpc_tls && v.chain_hashes.length === 0) {
      // drand's client refuses this combination at start ("no root of trust specified")
      throw new Error(
        'drand-http-relay: with grpc_tls: true drand-relay-http needs a root of trust — give chain_hashes (the "hash" of the chain\'s /info)',
      );
    }
    const node = pickNode(ctx);

    return daemon({
      service: 'drand-relay-http',
      // seed 000 "Drand Machines": dedicated system users; the relay keeps no state (no home)
      user: RELAY_USER,
      home: '/nonexistent',
      // curl: the URL download and the health check
      packages: ['curl', ...v.extra_packages],
      binary: v.binary,
      target: BINARY,
      repoPath: ctx.repoPath,
      restartHandler: RESTART_RELAY,
      unit: ctx.template('drand-relay-http.service', {
        host: ctx.host.name,
        binary: BINARY_PATH,
        user: RELAY_USER,
        grpcConnect: node,
        bind: bind.text,
        lowPort: bind.port < 1024,
        metrics: metricsListen(ctx),
        hashes: v.chain_hashes,
        insecure: !v.grpc_tls,
        extraArgs: v.extra_args,
      }),
    }).resources;
  },

  handlers() {
    return daemonHandlers({ service: 'drand-relay-http', restartHandler: RESTART_RELAY });
  },

  health(ctx) {
    const bind = bindOf(ctx);
    const local = localUrlHost(bind.host);
    // "the relay is running" is the service resource's job (probed, and verified after every apply).
    return [
      {
        // seed 000 "API Monitoring": monitor /health of nodes and relays (200: the relay's node is current)
        name: 'drand relay /health answers 200',
        script: `curl -fsS --max-time 5 -o /dev/null ${sh(`http://${local}:${bind.port}/health`)}`,
        timeoutSeconds: 90,
      },
    ];
  },
});
