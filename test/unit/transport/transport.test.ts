// Transport behaviour that needs no SSH server: refused connections, jump host failures, bad
// inventories, unreadable keys. (Live sessions are covered by the e2e tests on lab hosts.)
import net from 'node:net';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { Host, Inventory } from '../../../src/inventory/types.js';
import { AuthError, ConnectError } from '../../../src/transport/errors.js';
import type { TransportEvent } from '../../../src/transport/events.js';
import { Transport } from '../../../src/transport/transport.js';

/** A loopback port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function inventory(port: number, hosts: Partial<Host>[]): Inventory {
  const map = new Map<string, Host>();
  for (const h of hosts) {
    map.set(h.name as string, { address: '127.0.0.1', port, user: 'root', sizing: 'enforce', spec: {}, groups: [], vars: {}, ...h } as Host);
  }
  return {
    dir: '/nonexistent',
    name: 'unit',
    hosts: map,
    groups: new Map(),
    knownHosts: path.join(process.cwd(), 'test/fixtures/transport/known_hosts'),
  };
}

// An agent path lets hosts without a key file get as far as TCP; nothing here reaches auth.
const agent = '/nonexistent/agent.sock';

describe('Transport without a server', () => {
  test('refused connection: ConnectError naming host and address, failed event', async () => {
    const port = await closedPort();
    const events: TransportEvent[] = [];
    const t = new Transport(inventory(port, [{ name: 'drand-1' }]), { agent, onEvent: (e) => events.push(e) });
    const err = await t.connect('drand-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(`cannot connect to drand-1 (127.0.0.1:${port}): connection refused (is sshd running on that port?)`);
    expect(events.map((e) => e.type)).toEqual(['connecting', 'failed']);
    await t.close();
  });

  test('a jump host failure fails every host behind it, naming the jump host; one bastion attempt', async () => {
    const port = await closedPort();
    const events: TransportEvent[] = [];
    const t = new Transport(
      inventory(port, [{ name: 'bastion-1' }, { name: 'drand-1', address: '10.213.7.21', port: 22, jump: 'bastion-1' }, { name: 'drand-2', address: '10.213.7.22', port: 22, jump: 'bastion-1' }]),
      { agent, onEvent: (e) => events.push(e) },
    );
    const errs = await Promise.all(['drand-1', 'drand-2'].map((h) => t.connect(h).then(() => null, (e: unknown) => e as ConnectError)));
    for (const [i, err] of errs.entries()) {
      if (!err) throw new Error(`drand-${i + 1} connected`);
      expect(err).toBeInstanceOf(ConnectError);
      expect(err.jumpHost).toBe('bastion-1');
      expect(err.message).toMatch(new RegExp(`^cannot connect to drand-${i + 1} \\(10\\.213\\.7\\.2${i + 1}:22\\): jump host bastion-1 failed: cannot connect to bastion-1`));
    }
    const bastionAttempts = events.filter((e) => e.type === 'connecting' && e.host === 'bastion-1');
    expect(bastionAttempts).toHaveLength(1);
    expect(events.filter((e) => e.type === 'failed').map((e) => e.host).sort()).toEqual(['bastion-1', 'drand-1', 'drand-2']);
    await t.close();
  });

  test('nested jumps name the whole chain', async () => {
    const port = await closedPort();
    const t = new Transport(inventory(port, [{ name: 'outer' }, { name: 'inner', jump: 'outer' }, { name: 'node', jump: 'inner' }]), { agent });
    const err = (await t.connect('node').catch((e: unknown) => e)) as ConnectError;
    expect(err.message).toMatch(/^cannot connect to node .*: jump host inner failed: cannot connect to inner .*: jump host outer failed: cannot connect to outer .*: connection refused/);
  });

  test('a jump loop and an unknown jump host are refused before connecting', async () => {
    const t = new Transport(inventory(22, [{ name: 'a', jump: 'b' }, { name: 'b', jump: 'a' }, { name: 'c', jump: 'ghost' }]), { agent });
    await expect(t.connect('a')).rejects.toThrow('jump host loop for a: a -> b -> a');
    await expect(t.connect('c')).rejects.toThrow('jump host ghost of c is not in inventory unit');
    await expect(t.connect('nobody')).rejects.toThrow('host nobody is not in inventory unit');
  });

  test('no key file and no agent: AuthError', async () => {
    const t = new Transport(inventory(22, [{ name: 'drand-1' }]), { agent: null });
    await expect(t.connect('drand-1')).rejects.toThrow(AuthError);
    await expect(t.connect('drand-1')).rejects.toThrow(/no key file in the inventory and SSH_AUTH_SOCK is not set/);
  });

  test('unreadable key file: AuthError naming the file and the host', async () => {
    const t = new Transport(inventory(22, [{ name: 'drand-1', key: '/nonexistent/id_ed25519' }]), { agent: null });
    await expect(t.connect('drand-1')).rejects.toThrow(/^cannot read key file \/nonexistent\/id_ed25519 of drand-1: ENOENT/);
  });

  test('connect after close is refused', async () => {
    const t = new Transport(inventory(22, [{ name: 'drand-1' }]), { agent });
    await t.close();
    await expect(t.connect('drand-1')).rejects.toThrow('transport is closed');
  });
});
