// One remote exec: the script travels on stdin of a fixed command (never on the command line, so
// nothing in it is ever parsed by the login shell), output comes back as UTF-8 strings.
import { ExecError } from './errors.js';
import type { SshChannel, SshClient } from './ssh2-types.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The fixed remote command: a root shell reading its script from stdin. */
export function rootShellCommand(user: string): string {
  // -n: never prompt — a sudo that wants a password fails at once instead of hanging the run.
  return user === 'root' ? 'sh -s' : 'sudo -n sh -s';
}

/**
 * The stdin actually sent for a script. Wrapped in `{ … } </dev/null` so sh parses the WHOLE
 * script before running any of it (a truncated script runs nothing) and no command inside can
 * swallow the rest of the script from stdin (sh -s reads its input in blocks; `cat` or apt would eat it).
 */
export function scriptStdin(script: string): string {
  return `{ :\n${script}\n} </dev/null\n`; // ":" keeps an empty script valid
}

/** Runs `command` with `stdin` on a new channel; resolves once the channel closes with an exit status. */
export function execWithStdin(client: SshClient, command: string, stdin: string, host: string): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) {
        reject(new ExecError(host, `cannot open an exec channel on ${host}: ${err.message}`, { cause: err }));
        return;
      }
      collect(channel, host).then(resolve, reject);
      channel.end(stdin, 'utf8');
    });
  });
}

function collect(channel: SshChannel, host: string): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    // Buffers are joined before decoding so a multi-byte character split across packets survives.
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let code: number | null = null;
    let signal: string | null = null;
    let failure: Error | null = null;
    channel.on('data', (b: Buffer) => out.push(b));
    channel.stderr.on('data', (b: Buffer) => err.push(b));
    channel.on('exit', (c: number | null, s?: string) => {
      code = c ?? null;
      signal = s ?? null;
    });
    channel.on('error', (e: Error) => (failure ??= e));
    channel.on('close', () => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code !== null) return resolve({ stdout, stderr, code });
      const why = signal
        ? `was killed by signal ${signal}`
        : failure
          ? `failed: ${failure.message}`
          : 'ended without an exit status (connection lost?)';
      reject(new ExecError(host, `remote script on ${host} ${why}${stderr ? `; stderr: ${stderr.trim()}` : ''}`, { cause: failure }));
    });
  });
}

/**
 * The message of `sudo -n` refusing to run (password required, tty required, not allowed), or null.
 * sudo fails before the script starts: exit 1, nothing on stdout, its own "sudo: …" on stderr.
 */
export function sudoRefusal(result: ExecResult): string | null {
  if (result.stdout !== '') return null;
  if (result.code === 127 && /\bsudo: (command )?not found/.test(result.stderr)) return 'sudo is not installed';
  if (result.code !== 1) return null;
  const first = result.stderr.trimStart().split('\n')[0] ?? '';
  return /^sudo: /.test(first) ? first.trim() : null;
}
