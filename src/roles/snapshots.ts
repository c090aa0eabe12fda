// Where snapshot clients and the snapshot server learn about each other, for both roles and for
// `provision rebuild`. Everything comes from the inventory (addresses, roles) and from ONE fleet
// secret, the snapshot master, given to both roles (`snapshot.master`, `snapshot-server.master`,
// the same value). From it, by HMAC-SHA256 with the host name:
//  - each client's restic repository password and its SSH key (the server authorises the public half);
//  - the server's SSH host key for the snapshot service (the clients pin it).
// Why derived and not generated on the hosts (ctx.hostValue): these are exactly the values a lost
// host must get back. A rebuilt client or server is given the same key, password and host key
// before anything else runs, so a rebuild needs nothing from the machine that was lost; a client
// holds only its own values, and the master never leaves the controller and the snapshot server.
import { createHash, createHmac, createPrivateKey, createPublicKey } from 'node:crypto';
import type { HostView } from './types.js';
import { SecretValue } from '../secrets/value.js';

export const CLIENT_ROLE = 'snapshot';
export const SERVER_ROLE = 'snapshot-server';
/** the snapshot server's own sshd (restic over rclone only); not base's port 22 */
export const SNAPSHOT_SSH_PORT = 2222;
/** the account clients log in as on the server (forced command per key) */
export const SERVER_USER = 'restic';
/** one restic repository per client under it */
export const REPO_ROOT = '/srv/restic';

export const repoPath = (client: string): string => `${REPO_ROOT}/${client}`;

/** The one host carrying the snapshot-server role (never the client itself: snapshots live elsewhere). */
export function snapshotServer(hosts: HostView[], client: HostView): HostView {
  const servers = hosts.filter((h) => h.roles.includes(SERVER_ROLE));
  if (servers.length !== 1) {
    throw new Error(`snapshot: host ${client.name} needs exactly one host with role ${SERVER_ROLE} in the inventory, found ${servers.length}${servers.length ? ` (${servers.map((h) => h.name).join(', ')})` : ''}`);
  }
  const server = servers[0]!;
  if (server.name === client.name || server.address === client.address) {
    throw new Error(`snapshot: host ${client.name} is its own snapshot server; snapshots must be stored on a different server from the one they protect`);
  }
  return server;
}

/** Every host whose snapshots the server keeps. */
export const snapshotClients = (hosts: HostView[]): HostView[] => hosts.filter((h) => h.roles.includes(CLIENT_ROLE));

const derive = (master: SecretValue, purpose: string, host: string): Buffer =>
  createHmac('sha256', master.reveal()).update(`provision-snapshot\0${purpose}\0${host}`).digest();

/** The client's restic repository password. */
export const repositoryPassword = (master: SecretValue, client: string): SecretValue => new SecretValue(derive(master, 'restic-password', client).toString('base64url'));

export interface SshKeyPair {
  /** OpenSSH private key file content (secret) */
  privateKey: SecretValue;
  /** "ssh-ed25519 AAAA… comment" */
  publicKey: string;
}

/** The client's SSH key for the snapshot server. */
export const clientKey = (master: SecretValue, client: string): SshKeyPair => ed25519(derive(master, 'client-key', client), `snapshot@${client}`);

/** The server's host key for the snapshot service. */
export const serverHostKey = (master: SecretValue, server: string): SshKeyPair => ed25519(derive(master, 'server-host-key', server), `snapshot-server@${server}`);

// ---- an Ed25519 key from a 32-byte seed, in OpenSSH's formats ----

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string): Buffer => {
  const v = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return Buffer.concat([u32(v.length), v]);
};

function ed25519(seed: Buffer, comment: string): SshKeyPair {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32);
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  // openssh-key-v1, unencrypted: the check integers only detect a wrong passphrase; derived, so the file is stable
  const check = createHash('sha256').update(seed).digest().readUInt32BE(0);
  let inner = Buffer.concat([u32(check), u32(check), str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad = (8 - (inner.length % 8)) % 8;
  inner = Buffer.concat([inner, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(inner)]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return {
    privateKey: new SecretValue(`-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`),
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}`,
  };
}
