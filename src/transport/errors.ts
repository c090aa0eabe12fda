// Typed transport errors. Every message names the inventory host and the address it was reached
// at, so a failure in a 20-host run can be read without context.

/** "drand-1 (10.213.7.21:22)" */
export function hostLabel(host: string, address: string, port: number): string {
  return `${host} (${address}:${port})`;
}

export abstract class TransportError extends Error {
  /** inventory name of the host the error belongs to */
  readonly host: string;
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.host = host;
    this.name = new.target.name;
  }
}

/** The host presented a key that known_hosts has no entry for. */
export class HostKeyUnknownError extends TransportError {}

/** known_hosts has entries for the host, but none with the key it presented. */
export class HostKeyChangedError extends TransportError {}

/** The host presented a key marked @revoked in known_hosts. */
export class HostKeyRevokedError extends TransportError {}

/** The key file is unusable, or the server accepted none of our keys. */
export class AuthError extends TransportError {}

/** TCP, handshake or tunnel failure (refused, timeout, jump host down, connection lost). */
export class ConnectError extends TransportError {
  /** the jump host whose failure caused this one, if any */
  readonly jumpHost: string | undefined;
  constructor(host: string, message: string, options?: { cause?: unknown; jumpHost?: string }) {
    super(host, message, options);
    this.jumpHost = options?.jumpHost;
  }
}

/** The login user is not root and `sudo -n` refused (password required, no tty, not allowed). */
export class SudoError extends TransportError {}

/** A remote exec did not complete: channel refused, killed by a signal, no exit status. */
export class ExecError extends TransportError {}
