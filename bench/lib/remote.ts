// Untimed work on the bench hosts (drifting a file, reading sshd logs): through provision's own
// Transport, so every node is reached through the bastion's one connection with strict host keys.
import { loadInventory } from '../../src/inventory/load.js';
import { Transport, type ExecResult } from '../../src/transport/index.js';

export async function onHosts(invDir: string, hosts: string[], script: (host: string) => string, concurrency = 16): Promise<Map<string, ExecResult>> {
  const inv = loadInventory(invDir);
  const t = new Transport(inv, { connectTimeoutMs: 20_000, agent: null });
  const out = new Map<string, ExecResult>();
  try {
    const queue = [...hosts];
    const worker = async () => {
      for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
        const conn = await t.connect(h);
        out.set(h, await conn.run(script(h)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
  } finally {
    await t.close();
  }
  return out;
}

/** Fails with every host's problem when a script did not exit 0 somewhere. */
export function assertAllOk(what: string, results: Map<string, ExecResult>): void {
  const bad = [...results].filter(([, r]) => r.code !== 0);
  if (bad.length) throw new Error(`${what} failed on ${bad.map(([h, r]) => `${h} (exit ${r.code}: ${r.stderr.trim().slice(0, 200)})`).join(', ')}`);
}
