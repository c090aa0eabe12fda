// What the transport reports while it works; the CLI views render these (src/transport never prints).
import type { ConnectError, TransportError } from './errors.js';

export type TransportEvent =
  /** `via` names the jump host when the host is reached through one */
  | { type: 'connecting'; host: string; address: string; port: number; via?: string }
  /** `ms`: from 'connecting' to logged in, including any wait for the jump host */
  | { type: 'connected'; host: string; ms: number }
  | { type: 'failed'; host: string; error: TransportError }
  /** an established connection dropped (keepalive timeout, reset, jump host lost) */
  | { type: 'lost'; host: string; error: ConnectError };
