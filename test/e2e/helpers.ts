// Shared by the e2e tests: run the real CLI, and reach lab hosts with the real OpenSSH client.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, afterAll } from '@jest/globals';
import { labFleet } from '../../src/cli/commands/lab-main.js';
import { labUp, labDown } from '../../src/lab/index.js';

export const repo = process.cwd();
export const LAB_KEY = '/var/lib/provision/lab/id_ed25519';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `provision ...` as a user would (CI=true: plain output, no spinner). */
export function cli(args: string[], env: Record<string, string> = {}): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [path.join(repo, 'dist/src/cli/main.js'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', ...env },
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** JSON output of a `--json` run, with the CLI's stderr attached to any parse failure. */
export function cliJson<T = { hosts: { host: string; result: string; changes: { id: string }[]; execs: number; error?: string }[] }>(args: string[], env: Record<string, string> = {}): { code: number; data: T; stderr: string } {
  const r = cli([...args, '--json'], env);
  try {
    return { code: r.code, data: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`provision ${args.join(' ')} --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

export interface SshOptions {
  knownHosts: string;
  /** ProxyJump through this address first (the bastion) */
  via?: string;
  user?: string;
  password?: boolean;
  timeoutSeconds?: number;
}

/** Run a command on a lab host with OpenSSH and strict host-key checking. */
export function ssh(address: string, command: string, o: SshOptions): CliResult {
  const args = [
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${o.knownHosts}`,
    '-o', `ConnectTimeout=${o.timeoutSeconds ?? 5}`,
    '-o', 'IdentitiesOnly=yes',
  ];
  // password: offer no key at all. BatchMode keeps the client from prompting; the server's
  // "Permission denied (…)" still lists every method it would accept.
  if (o.password) args.push('-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive');
  else args.push('-i', LAB_KEY);
  // Not -J: OpenSSH does not pass -o options to the jump connection, which would then miss our
  // known_hosts file. A ProxyCommand carries them explicitly.
  if (o.via) {
    const inner = ['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${o.knownHosts}`, '-o', 'IdentitiesOnly=yes', '-i', LAB_KEY, '-W', '%h:%p', `root@${o.via}`];
    args.push('-o', `ProxyCommand=${inner.join(' ')}`);
  }
  args.push(`${o.user ?? 'root'}@${address}`, command);
  const r = spawnSync('ssh', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface FleetOptions {
  /** boot only these hosts of the inventory (the others stay down; all are wiped) */
  only?: (name: string) => boolean;
  /** run after the hosts are up (e.g. converge once); the file's tests share what it leaves */
  ready?: () => void | Promise<void>;
  /** run before the hosts are wiped at the end (e.g. print figures) */
  done?: () => void | Promise<void>;
}

/**
 * One fresh fleet for a test file: wipe whatever an earlier (maybe interrupted) run left, boot the
 * hosts, and wipe them after the file's last test. Every e2e file starts and ends the same way.
 */
export function useFleet(inv: string, o: FleetOptions = {}): void {
  const fleet = () => {
    const f = labFleet(inv);
    return o.only ? { ...f, hosts: f.hosts.filter((h) => o.only!(h.name)) } : f;
  };
  beforeAll(async () => {
    await labDown(labFleet(inv), () => {}, { wipe: true });
    await labUp(fleet(), { installDeps: !!process.env.CI }, () => {});
    await o.ready?.();
  }, 900_000);
  afterAll(async () => {
    try {
      await o.done?.();
    } finally {
      await labDown(labFleet(inv), () => {}, { wipe: true });
    }
  }, 300_000);
}

/**
 * Every file the controller side could have written during a run since `started`: the repository
 * tree (fixtures, dist), new files in /tmp and ~/.cache, and the lab's state except the hosts' own
 * disks (upper/work/merged) — scanned by the e2e tests for what must never leave a host.
 */
export function controllerFiles(started: Date): string[] {
  const out: string[] = [];
  const walk = (dir: string, filter: (f: string, st: fs.Stats) => boolean) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) walk(p, filter);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        if (st.size < 16 * 1024 * 1024 && filter(p, st)) out.push(p);
      }
    }
  };
  const recent = (_: string, st: fs.Stats) => st.mtime >= started;
  // the repo: everything but .git objects and the symlinked node_modules (skipped as a link)
  for (const top of fs.readdirSync(repo)) if (top !== '.git' && top !== 'node_modules') walk(path.join(repo, top), () => true);
  walk(os.tmpdir(), recent);
  walk(path.join(os.homedir(), '.cache'), recent);
  // the lab's state, with each host's console log, but not the hosts' disks (upper/work/merged),
  // where the target files rightly hold the secrets
  walk('/var/lib/provision/lab', (f) => !/\/hosts\/[^/]+\/[^/]+\/(upper|work|merged)\//.test(f) && !f.endsWith('age-identity.txt'));
  return out;
}
