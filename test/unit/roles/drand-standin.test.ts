// The lab's drand stand-in (test/fixtures/drand-standin/drand, a Python script — not drand) behaves
// like the daemon as the role and the e2e tests see it.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, STANDIN } from './helpers.js';

const script = path.join(repoRoot, STANDIN);
const hasPython = spawnSync('python3', ['--version']).status === 0;
const maybe = hasPython ? describe : describe.skip;


const reachable = (port: number, host = '127.0.0.1'): Promise<boolean> =>
  new Promise((resolve) => {
    const c = net.connect({ port, host }, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });

// Generous: on a loaded 2-core CI machine python3 can take seconds to start. If the stand-in
// exits (e.g. a port taken between freePort() and its bind), say so with its stderr.
async function waitFor(port: number, child?: ChildProcess, stderr = () => ''): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await reachable(port)) return;
    if (child && child.exitCode !== null) throw new Error(`the stand-in exited (${child.exitCode}) before port ${port} opened: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened within 30 s: ${stderr()}`);
}

maybe('drand stand-in', () => {
  let folder: string;
  let child: ChildProcess | undefined;
  const ports = { priv: 0, ctl: 0, met: 0, pub: 0 };

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'drand-standin-'));
    ports.priv = await freePort();
    ports.ctl = await freePort();
    ports.met = await freePort();
    ports.pub = await freePort();
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    fs.rmSync(folder, { recursive: true, force: true });
  });

  const args = () => [
    'start',
    '--private-listen', `127.0.0.1:${ports.priv}`,
    '--control', String(ports.ctl),
    '--metrics', `127.0.0.1:${ports.met}`,
    '--public-listen', `127.0.0.1:${ports.pub}`,
    '--folder', folder,
  ];

  test('says it is a stand-in', () => {
    expect(fs.readFileSync(script, 'utf8').split('\n').slice(0, 3).join('\n')).toMatch(/TEST STAND-IN — THIS IS NOT DRAND/);
  });

  test('refuses to start without the folder layout', () => {
    const r = spawnSync('python3', [script, ...args()], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/folder layout missing/);
    fs.mkdirSync(path.join(folder, 'multibeacon/default/key'), { recursive: true });
    fs.mkdirSync(path.join(folder, 'multibeacon/default/groups'));
    const r2 = spawnSync('python3', [script, ...args()], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/multibeacon\/default\/\{db\}/);
    fs.mkdirSync(path.join(folder, 'multibeacon/default/db'));
  });

  test('serves the private port, control on localhost, metrics and the HTTP API', async () => {
    child = spawn('python3', [script, ...args()], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(ports.pub, child, () => err);
    expect(await reachable(ports.priv)).toBe(true);
    expect(await reachable(ports.ctl)).toBe(true);

    const health = await fetch(`http://127.0.0.1:${ports.pub}/health`);
    expect(health.status).toBe(200);
    const h = (await health.json()) as { current: number; expected: number };
    expect(h.current).toBeGreaterThanOrEqual(h.expected - 1);

    const info = (await (await fetch(`http://127.0.0.1:${ports.pub}/info`)).json()) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(['genesis_time', 'groupHash', 'hash', 'metadata', 'period', 'public_key', 'schemeID']);
    expect(info.metadata).toEqual({ beaconID: 'default' });
    expect(info.period).toBe(3);

    const latest = (await (await fetch(`http://127.0.0.1:${ports.pub}/${String(info.hash)}/public/latest`)).json()) as Record<string, unknown>;
    expect(Object.keys(latest).sort()).toEqual(['randomness', 'round', 'signature']);
    expect(latest.randomness).toMatch(/^[0-9a-f]{64}$/);

    const metrics = await (await fetch(`http://127.0.0.1:${ports.met}/metrics`)).text();
    expect(metrics).toMatch(/^drand_last_beacon_round\{beacon_id="default"\} \d+$/m);
  });
});
