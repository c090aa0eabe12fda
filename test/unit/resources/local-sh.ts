// Run resource scripts with this machine's /bin/sh (dash on Debian) the way the engine does on a
// host: the script is fed on stdin to `sh -s`; probes each in a subshell with stderr discarded,
// applies under `set -eu`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface ShResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** `shell` is the command reading the script on stdin: sh -s here, or nsenter … sh -s for a container */
export function runSh(script: string, cwd?: string, shell: string[] = ['sh', '-s']): ShResult {
  const [cmd = 'sh', ...args] = shell;
  const r = spawnSync(cmd, args, { input: script, encoding: 'utf8', ...(cwd ? { cwd } : {}), maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** One probe, wrapped as the engine wraps each probe of the batch. */
export const runProbe = (probe: string, cwd?: string, shell?: string[]): ShResult =>
  runSh(`(\n${probe}\n) 2>/dev/null\n`, cwd, shell);

export const runApply = (apply: string, cwd?: string, shell?: string[]): ShResult => runSh(`set -eu\n${apply}`, cwd, shell);

/**
 * Several probes in ONE script, each between random markers, like the engine's batch; returns each
 * probe's stdout (undefined when its end marker never came: it exited the shell or ate stdin).
 */
export function runProbeBatch(probes: string[], cwd?: string): Array<string | undefined> {
  const tag = randomBytes(8).toString('hex');
  const script = probes
    .map((p, i) => `echo '@@${tag}:begin:${i}'\n(\n${p}\n) 2>/dev/null\necho '@@${tag}:end:${i}'\n`)
    .join('');
  const out = runSh(script, cwd).stdout;
  return probes.map((_, i) => {
    const begin = out.indexOf(`@@${tag}:begin:${i}\n`);
    const end = out.indexOf(`@@${tag}:end:${i}\n`);
    return begin < 0 || end < 0 ? undefined : out.slice(begin + `@@${tag}:begin:${i}\n`.length, end);
  });
}
