// One Transport per run: at most ONE SSH connection per host, hosts behind a bastion tunnelled
// through the bastion's single connection, everything closed together at the end.
import { readFile } from 'node:fs/promises';
import type { Host, Inventory } from '../inventory/types.js';
import { LiveConnection, runAsRoot, type HostConnection } from './connection.js';
import { AuthError, ConnectError, ExecError, TransportError, hostLabel } from './errors.js';
import type { TransportEvent } from './events.js';
import { fingerprint, loadKnownHosts, type KnownHosts } from './known-hosts.js';
import { openSession, openTunnel, type Session, type SessionOptions } from './session.js';
import type { SshChannel } from './ssh2-types.js';

export interface TransportOptions {
  /** TCP connect + SSH handshake + auth, per hop (default 20 s) */
  connectTimeoutMs?: number;
  /** keepalive probe interval (default 15 s); the connection is declared lost after 3 unanswered */
  keepaliveIntervalMs?: number;
  /** ssh-agent socket; default: SSH_AUTH_SOCK. null: never use an agent */
  agent?: string | null;
  onEvent?: (event: TransportEvent) => void;
  /**
   * A host whose new host key (not in known_hosts) is accepted when its SHA256 fingerprint is this
   * one — given by the operator out of band (`provision rebuild --fingerprint`). Any other key
   * still fails the host, naming the key it saw.
   */
  acceptHostKey?: { host: string; fingerprint: string };
}

const KEEPALIVE_COUNT_MAX = 3;

export class Transport {
  private readonly connections = new Map<string, Promise<LiveConnection>>();
  private readonly counters = new Map<string, { execs: number }>();
  private readonly keys = new Map<string, Promise<string>>();
  private knownHosts: Promise<KnownHosts> | undefined;
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly agent: string | undefined;
  private readonly emit: (event: TransportEvent) => void;
  private readonly acceptHostKey: TransportOptions['acceptHostKey'];
  /** host → the key accepted through acceptHostKey (to be recorded in known_hosts by the caller) */
  readonly acceptedHostKeys = new Map<string, Buffer>();

  constructor(
    private readonly inventory: Inventory,
    opts: TransportOptions = {},
  ) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 20_000;
    this.keepaliveIntervalMs = opts.keepaliveIntervalMs ?? 15_000;
    this.agent = (opts.agent === undefined ? process.env.SSH_AUTH_SOCK : opts.agent) || undefined;
    this.emit = opts.onEvent ?? (() => {});
    this.acceptHostKey = opts.acceptHostKey;
  }

  /** The host's connection, opened on first use and shared for the rest of the run. */
  connect(hostName: string): Promise<HostConnection> {
    return this.connectLive(hostName);
  }

  /**
   * A FRESH login (new SSH session, new auth) running `true` as root — the lockout guard's test.
   * Hosts behind a jump host are reached through the jump host's existing connection.
   */
  async testFreshLogin(hostName: string): Promise<void> {
    const host = this.host(hostName);
    const { session } = await this.openSessionTo(host);
    try {
      this.counter(host.name).execs++;
      const result = await runAsRoot(session.client, host, 'true\n');
      if (result.code !== 0) {
        throw new ExecError(host.name, `fresh login test on ${label(host)}: \`true\` exited ${result.code}: ${result.stderr.trim()}`);
      }
    } finally {
      session.ssh.dispose();
    }
  }

  /** Closes every connection: hosts behind jump hosts first, so no tunnel is cut under a live session. */
  async close(): Promise<void> {
    this.closed = true;
    const open: { conn: LiveConnection; depth: number }[] = [];
    for (const [name, pending] of this.connections) {
      const conn = await pending.catch(() => null);
      if (conn) open.push({ conn, depth: this.jumpChain(this.host(name)).length });
    }
    const depths = [...new Set(open.map((o) => o.depth))].sort((a, b) => b - a);
    for (const depth of depths) {
      await Promise.all(open.filter((o) => o.depth === depth).map((o) => o.conn.close()));
    }
  }

  private connectLive(hostName: string): Promise<LiveConnection> {
    // Caching the promise (not the result) makes concurrent callers share one in-flight connect,
    // and makes a failed host fail the same way for everyone for the rest of the run.
    const cached = this.connections.get(hostName);
    if (cached) return cached;
    if (this.closed) return Promise.reject(new Error(`transport is closed; cannot connect to ${hostName}`));
    const pending = this.open(hostName);
    this.connections.set(hostName, pending);
    return pending;
  }

  private async open(hostName: string): Promise<LiveConnection> {
    const started = Date.now();
    let host: Host | undefined;
    try {
      host = this.host(hostName);
      this.emit({ type: 'connecting', host: host.name, address: host.address, port: host.port, ...(host.jump ? { via: host.jump } : {}) });
      const { session, via } = await this.openSessionTo(host);
      const conn = new LiveConnection(host, session, this.counter(host.name), via, (error) => this.emit({ type: 'lost', host: hostName, error }));
      this.emit({ type: 'connected', host: host.name, ms: Date.now() - started });
      return conn;
    } catch (err) {
      const error = err instanceof TransportError ? err : new ConnectError(hostName, (err as Error).message, { cause: err });
      this.emit({ type: 'failed', host: hostName, error });
      throw error;
    }
  }

  /** A new session to `host`: direct, or through its jump host's cached connection (`via`). */
  private async openSessionTo(host: Host): Promise<{ session: Session; via?: LiveConnection }> {
    this.jumpChain(host); // rejects a loop or an unknown jump host before anything connects
    const base = await this.sessionOptions(host);
    if (!host.jump) return { session: await openSession(host, base) };
    const jumpName = host.jump;
    let jump: LiveConnection;
    let tunnel: SshChannel;
    try {
      jump = await this.connectLive(jumpName);
      tunnel = await openTunnel(jump.client, jumpName, host, this.connectTimeoutMs);
    } catch (err) {
      if (err instanceof ConnectError && err.host === host.name) throw err; // the tunnel's own error
      const why = (err as Error).message;
      throw new ConnectError(host.name, `cannot connect to ${label(host)}: jump host ${jumpName} failed: ${why}`, {
        cause: err,
        jumpHost: jumpName,
      });
    }
    return { session: await openSession(host, { ...base, tunnel: { sock: tunnel, via: jumpName } }), via: jump };
  }

  private async sessionOptions(host: Host): Promise<SessionOptions> {
    this.knownHosts ??= loadKnownHosts(this.inventory.knownHosts);
    const knownHosts = await this.knownHosts;
    const privateKey = host.key === undefined ? undefined : await this.readKey(host);
    return {
      knownHosts,
      ...(privateKey !== undefined ? { privateKey } : {}),
      ...(this.agent !== undefined ? { agent: this.agent } : {}),
      connectTimeoutMs: this.connectTimeoutMs,
      keepaliveIntervalMs: this.keepaliveIntervalMs,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      ...(this.acceptHostKey?.host === host.name ? { acceptKey: (key: Buffer) => this.accept(host.name, key) } : {}),
    };
  }

  private accept(host: string, key: Buffer): boolean {
    if (fingerprint(key) !== this.acceptHostKey?.fingerprint) return false;
    this.acceptedHostKeys.set(host, key);
    return true;
  }

  /** Each key file is read once per run, however many hosts share it. */
  private readKey(host: Host): Promise<string> {
    const file = host.key as string;
    let pending = this.keys.get(file);
    if (!pending) {
      pending = readFile(file, 'utf8');
      pending.catch(() => {}); // reported to each host that uses it, below
      this.keys.set(file, pending);
    }
    return pending.catch((err: Error) => {
      throw new AuthError(host.name, `cannot read key file ${file} of ${host.name}: ${err.message}`, { cause: err });
    });
  }

  /** Jump hosts from the nearest outwards; rejects unknown names and loops. */
  private jumpChain(host: Host): string[] {
    const chain: string[] = [];
    for (let h = host; h.jump; ) {
      if (h.jump === host.name || chain.includes(h.jump)) {
        throw new ConnectError(host.name, `jump host loop for ${host.name}: ${[host.name, ...chain, h.jump].join(' -> ')}`);
      }
      chain.push(h.jump);
      const next = this.inventory.hosts.get(h.jump);
      if (!next) throw new ConnectError(host.name, `jump host ${h.jump} of ${h.name} is not in inventory ${this.inventory.name}`);
      h = next;
    }
    return chain;
  }

  private host(name: string): Host {
    const host = this.inventory.hosts.get(name);
    if (!host) throw new ConnectError(name, `host ${name} is not in inventory ${this.inventory.name}`);
    return host;
  }

  private counter(name: string): { execs: number } {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = { execs: 0 }));
    return c;
  }
}

function label(host: Host): string {
  return hostLabel(host.name, host.address, host.port);
}
