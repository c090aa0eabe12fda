// One apt-cacher-ng per lab bridge, listening on the gateway address only. Lab hosts use it as their
// apt proxy, so 20 hosts installing the same packages download them once, and apt needs no routing
// to the internet at all (the mirror forward rule is only a fallback for https sources).
// Started by us as a plain process (no systemd here); its pid is recorded and checked before a kill.
import { spawn } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { TOOL_PATH, sleep } from './exec.js';
import { CACHE_DIR, netStateDir } from './paths.js';
import { ourLivePid, removePid, signal, waitGone, writePid, type CmdlineMatch } from './procs.js';

/** Not 3142: a distro apt-cacher-ng (started by its package's postinst) may hold that on all addresses. */
export const APT_CACHE_PORT = 3242;

function dirs(bridge: string) {
  const state = path.join(netStateDir(bridge), 'apt-cacher-ng');
  return { state, conf: path.join(state, 'conf'), pidFile: path.join(state, 'pid'), log: path.join(state, 'log'), cache: path.join(CACHE_DIR, 'apt-cacher-ng', bridge) };
}

const isOurs = (confDir: string): CmdlineMatch => (argv) => (argv[0] ?? '').endsWith('apt-cacher-ng') && argv.includes(confDir);

export function aptProxyUrl(gateway: string): string {
  return `http://${gateway}:${APT_CACHE_PORT}`;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 500 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Starts it if not running; returns its pid and whether we started it now. */
export async function ensureAptCache(bridge: string, gateway: string): Promise<{ pid: number; started: boolean }> {
  const d = dirs(bridge);
  const running = await ourLivePid(d.pidFile, isOurs(d.conf));
  if (running) return { pid: running, started: false };
  await mkdir(d.conf, { recursive: true });
  await mkdir(d.log, { recursive: true });
  await mkdir(d.cache, { recursive: true });
  // Our own minimal config: the distro one remaps known Debian mirrors to its own backend list,
  // which could send the hosts somewhere other than this machine's mirror.
  await writeFile(
    path.join(d.conf, 'acng.conf'),
    [`CacheDir: ${d.cache}`, `LogDir: ${d.log}`, 'SupportDir: /usr/lib/apt-cacher-ng', `BindAddress: ${gateway}`, `Port: ${APT_CACHE_PORT}`, 'ExThreshold: 4', ''].join('\n'),
  );
  const out = await open(path.join(d.log, 'stdout.log'), 'a');
  try {
    const child = spawn(
      'apt-cacher-ng',
      ['-c', d.conf, 'ForeGround=1', `PidFile=${path.join(d.state, 'acng.pid')}`, `SocketPath=${path.join(d.state, 'socket')}`],
      { detached: true, stdio: ['ignore', out.fd, out.fd], env: { ...process.env, PATH: TOOL_PATH } },
    );
    child.unref();
    if (!child.pid) throw new Error('could not start apt-cacher-ng');
    await writePid(d.pidFile, child.pid);
    for (let i = 0; i < 50; i++) {
      if (await portOpen(gateway, APT_CACHE_PORT)) return { pid: child.pid, started: true };
      if (child.exitCode !== null) break;
      await sleep(100);
    }
    if (child.exitCode === null) signal(child.pid, 'SIGKILL'); // ours, just started
    await removePid(d.pidFile);
    throw new Error(`apt-cacher-ng did not listen on ${gateway}:${APT_CACHE_PORT} (see ${path.join(d.log, 'stdout.log')})`);
  } finally {
    await out.close();
  }
}

/** Stops our apt-cacher-ng for this bridge, if it runs; returns its pid. The cache itself is kept. */
export async function stopAptCache(bridge: string): Promise<number | undefined> {
  const d = dirs(bridge);
  const match = isOurs(d.conf);
  const pid = await ourLivePid(d.pidFile, match);
  if (pid) {
    signal(pid, 'SIGTERM');
    if (!(await waitGone(pid, 5000, match))) {
      signal(pid, 'SIGKILL');
      await waitGone(pid, 2000, match);
    }
  }
  await removePid(d.pidFile);
  return pid;
}
