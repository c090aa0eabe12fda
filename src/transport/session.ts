// Opens ONE authenticated SSH session with node-ssh — directly or over a tunnel through a jump
// host — with strict host key checking, and maps ssh2's failures to typed errors.
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Host } from '../inventory/types.js';
import { AuthError, ConnectError, hostLabel, type TransportError } from './errors.js';
import { checkHostKey } from './host-key-check.js';
import { knownHostName, preferredHostKeyAlgorithms, type KnownHosts } from './known-hosts.js';
import type { Ssh2ConnectConfig, Ssh2Error, SshChannel, SshClient } from './ssh2-types.js';

export interface SessionOptions {
  knownHosts: KnownHosts;
  /** contents of host.key, already read */
  privateKey?: string;
  /** ssh-agent socket path (SSH_AUTH_SOCK), if any */
  agent?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** a tunnel to the host through its jump host, and that jump host's name */
  tunnel?: { sock: Duplex; via: string };
  /** a key known_hosts does not trust, accepted anyway (provision rebuild: the fingerprint given out of band) */
  acceptKey?: (key: Buffer) => boolean;
}

export interface Session {
  ssh: NodeSSH;
  /** the underlying ssh2 client (for exec with stdin, forwardOut, events) */
  client: SshClient;
}

export async function openSession(host: Host, opts: SessionOptions): Promise<Session> {
  if (opts.privateKey === undefined && opts.agent === undefined) {
    opts.tunnel?.sock.destroy();
    throw new AuthError(
      host.name,
      `no way to authenticate to ${label(host)}: the host has no key file in the inventory and SSH_AUTH_SOCK is not set`,
    );
  }
  // hostVerifier can only answer true/false; the reason is kept here to build the typed error.
  let hostKeyError: TransportError | null = null;
  const preferred = preferredHostKeyAlgorithms(opts.knownHosts.entries, knownHostName(host.address, host.port));
  const config: Ssh2ConnectConfig = {
    ...(opts.tunnel ? { sock: opts.tunnel.sock } : { host: host.address, port: host.port }),
    username: host.user,
    ...(opts.privateKey !== undefined ? { privateKey: opts.privateKey } : {}),
    ...(opts.agent !== undefined ? { agent: opts.agent } : {}),
    tryKeyboard: false, // no password or keyboard-interactive auth, ever
    readyTimeout: opts.connectTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs,
    keepaliveCountMax: opts.keepaliveCountMax,
    hostVerifier: (key: Buffer) => {
      hostKeyError = checkHostKey(opts.knownHosts, { host: host.name, address: host.address, port: host.port }, key);
      if (hostKeyError && opts.acceptKey?.(key)) hostKeyError = null;
      return hostKeyError === null;
    },
    // Ask for the key types on file first (as OpenSSH does), so a host with several host keys
    // presents the one we know instead of looking "changed".
    ...(preferred.length ? { algorithms: { serverHostKey: { remove: preferred, prepend: preferred } } } : {}),
  };
  const ssh = new NodeSSH();
  try {
    await ssh.connect(config);
  } catch (err) {
    ssh.dispose();
    throw hostKeyError ?? classify(err as Ssh2Error, host, opts);
  }
  const client = ssh.connection as unknown as SshClient | null;
  if (!client) throw new ConnectError(host.name, `connection to ${label(host)} closed right after login`);
  // node-ssh drops its 'error' listener at login; without one, a later ssh2 error (keepalive
  // timeout, reset) would crash the process. Such errors surface as 'close' and failed execs.
  client.on('error', () => {});
  return { ssh, client };
}

/** A channel from the jump host to `host`'s SSH port, to be the inner session's socket. */
export function openTunnel(jump: SshClient, jumpName: string, host: Host, timeoutMs: number): Promise<SshChannel> {
  return new Promise<SshChannel>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new ConnectError(host.name, `cannot connect to ${label(host)} through jump host ${jumpName}: no tunnel after ${timeoutMs} ms`, { jumpHost: jumpName }));
    }, timeoutMs);
    jump.forwardOut('127.0.0.1', 0, host.address, host.port, (err, channel) => {
      clearTimeout(timer);
      if (done) return channel?.close();
      if (err) {
        reject(
          new ConnectError(host.name, `cannot connect to ${label(host)}: jump host ${jumpName} could not open a tunnel to it (${err.message})`, {
            cause: err,
            jumpHost: jumpName,
          }),
        );
      } else resolve(channel);
    });
  });
}

function classify(err: Ssh2Error, host: Host, opts: SessionOptions): TransportError {
  const where = label(host) + (opts.tunnel ? ` through jump host ${opts.tunnel.via}` : '');
  const jumpHost = opts.tunnel?.via;
  if (err.message.startsWith('Cannot parse privateKey') || err.message.includes('does not contain a (valid) private key')) {
    const hint = /encrypted/i.test(err.message) ? ' — passphrases are not supported: load the key into ssh-agent and leave `key` unset' : '';
    return new AuthError(host.name, `key file ${host.key} of ${host.name} cannot be used: ${err.message}${hint}`, { cause: err });
  }
  if (err.level === 'client-authentication' || err.level === 'agent') {
    const tried = [opts.privateKey !== undefined ? `key ${host.key}` : '', opts.agent !== undefined ? `ssh-agent keys (${opts.agent})` : '']
      .filter(Boolean)
      .join(', ');
    const detail = err.level === 'agent' ? `ssh-agent failed: ${err.message}` : `the server accepted none of: ${tried}`;
    return new AuthError(host.name, `authentication as ${host.user} failed on ${where}: ${detail}`, { cause: err });
  }
  if (err.level === 'client-timeout') {
    return new ConnectError(host.name, `cannot connect to ${where}: no SSH handshake within ${opts.connectTimeoutMs} ms`, { cause: err, jumpHost });
  }
  // node-ssh's own error when the socket closes before 'ready' without an ssh2 error
  if (err.message === 'No response from server') {
    return new ConnectError(host.name, `cannot connect to ${where}: the server closed the connection before login completed`, { cause: err, jumpHost });
  }
  const reason = SOCKET_REASONS[err.code ?? ''] ?? err.message;
  return new ConnectError(host.name, `cannot connect to ${where}: ${reason}`, { cause: err, jumpHost });
}

const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is sshd running on that port?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'address does not resolve',
  EAI_AGAIN: 'address does not resolve (DNS temporarily unavailable)',
};

function label(host: Host): string {
  return hostLabel(host.name, host.address, host.port);
}
