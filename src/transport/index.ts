// src/transport: SSH through node-ssh — keys and agent, strict host keys, jump hosts, sudo.
export { Transport, type TransportOptions } from './transport.js';
export type { HostConnection } from './connection.js';
export type { ExecResult } from './exec.js';
export type { TransportEvent } from './events.js';
export {
  TransportError,
  HostKeyUnknownError,
  HostKeyChangedError,
  HostKeyRevokedError,
  AuthError,
  ConnectError,
  SudoError,
  ExecError,
} from './errors.js';
export { parseKnownHosts, verifyHostKey, fingerprint, type KnownHostEntry } from './known-hosts.js';
