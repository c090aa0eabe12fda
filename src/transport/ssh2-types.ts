// The few parts of ssh2 (node-ssh's engine) this module touches. @types/ssh2 is not installed, so
// node-ssh's `connection` is untyped; these structural types keep our use of it checked.
import type { EventEmitter } from 'node:events';
import type { Duplex, Readable } from 'node:stream';

export interface SshChannel extends Duplex {
  stderr: Readable;
  close(): void;
}

/** ssh2 `Client` after 'ready' (node-ssh's `NodeSSH.connection`). */
export interface SshClient extends EventEmitter {
  exec(command: string, callback: (err: Error | undefined, channel: SshChannel) => void): boolean;
  forwardOut(
    srcIP: string,
    srcPort: number,
    dstIP: string,
    dstPort: number,
    callback: (err: Error | undefined, channel: SshChannel) => void,
  ): boolean;
  end(): void;
}

/** What ssh2 attaches to the errors it emits. */
export interface Ssh2Error extends Error {
  level?: string; // 'client-socket' | 'client-timeout' | 'client-authentication' | 'handshake' | 'agent' | …
  code?: string; // errno code on socket errors: ECONNREFUSED, EHOSTUNREACH, ENOTFOUND…
}

/** The ssh2 connect options we use (node-ssh's Config is untyped without @types/ssh2). */
export interface Ssh2ConnectConfig {
  host?: string;
  port?: number;
  sock?: Duplex;
  username: string;
  privateKey?: string;
  agent?: string;
  tryKeyboard: false;
  readyTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
  hostVerifier: (key: Buffer) => boolean;
  algorithms?: { serverHostKey: { remove: string[]; prepend: string[] } };
}
