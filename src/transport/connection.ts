// A live, cached connection to one host: runs root scripts, counts execs, notices when it is lost.
import pLimit from 'p-limit';
import type { Host } from '../inventory/types.js';
import { ConnectError, SudoError, hostLabel } from './errors.js';
import { execWithStdin, rootShellCommand, scriptStdin, sudoRefusal, type ExecResult } from './exec.js';
import type { Session } from './session.js';
import type { SshClient } from './ssh2-types.js';

export interface HostConnection {
  readonly host: string;
  /**
   * Run a POSIX sh script as root: on stdin of `sh -s` (or `sudo -n sh -s` for a non-root login
   * user), never on the command line. The script is parsed whole before it runs, and its commands
   * read stdin from /dev/null. A non-zero exit is a result; a failed exec, sudo refusal or lost
   * connection is an error.
   */
  run(script: string): Promise<ExecResult>;
  /** number of remote execs made on this host so far (fresh-login tests included) */
  readonly execCount: number;
}

// OpenSSH's default MaxSessions allows 10 exec sessions per connection; stay below it.
// (Tunnels to hosts behind a bastion are not sessions: 20 through one bastion were tested.)
const MAX_PARALLEL_EXECS = 8;

/** Runs one root script on a session; shared by cached connections and fresh-login tests. */
export async function runAsRoot(client: SshClient, host: Host, script: string): Promise<ExecResult> {
  const result = await execWithStdin(client, rootShellCommand(host.user), scriptStdin(script), host.name);
  if (host.user !== 'root') {
    const refusal = sudoRefusal(result);
    if (refusal) {
      throw new SudoError(
        host.name,
        `cannot become root on ${hostLabel(host.name, host.address, host.port)}: login user ${host.user} needs passwordless sudo ` +
          `(\`sudo -n\` said: ${refusal})`,
      );
    }
  }
  return result;
}

export class LiveConnection implements HostConnection {
  readonly host: string;
  /** set once the session is gone; later runs fail with it */
  private lost: ConnectError | null = null;
  private closing = false;
  private readonly limit = pLimit(MAX_PARALLEL_EXECS);

  constructor(
    private readonly target: Host,
    private readonly session: Session,
    private readonly counter: { execs: number },
    /** the jump host's connection this one is tunnelled through, if any */
    via: LiveConnection | undefined,
    onLost: (error: ConnectError) => void,
  ) {
    this.host = target.name;
    let lastError: Error | undefined;
    // A listener must stay attached: ssh2 emits 'error' after login (keepalive timeout, reset),
    // and an unhandled 'error' event would crash the whole run.
    session.client.on('error', (err: Error) => (lastError = err));
    session.client.on('close', () => {
      if (this.closing) return;
      const why = via?.lostError ? `: jump host ${via.host} was lost` : lastError ? `: ${lastError.message}` : '';
      this.lost = new ConnectError(this.host, `connection to ${this.label} was lost${why}`, {
        cause: via?.lostError ?? lastError,
        ...(via?.lostError ? { jumpHost: via.host } : {}),
      });
      onLost(this.lost);
    });
  }

  /** why the connection dropped, once it has */
  get lostError(): ConnectError | null {
    return this.lost;
  }

  get execCount(): number {
    return this.counter.execs;
  }

  /** the ssh2 client, for tunnels to hosts behind this one */
  get client(): SshClient {
    if (this.lost) throw this.lost;
    return this.session.client;
  }

  run(script: string): Promise<ExecResult> {
    return this.limit(async () => {
      if (this.lost) throw this.lost;
      if (this.closing) throw new ConnectError(this.host, `connection to ${this.label} is closed (the transport was closed)`);
      this.counter.execs++;
      try {
        return await runAsRoot(this.session.client, this.target, script);
      } catch (err) {
        throw this.lost ?? err; // an exec cut short by a lost connection reports the connection
      }
    });
  }

  /** Ends the session and waits until its socket is closed (bounded: a dead peer never answers). */
  close(timeoutMs = 5000): Promise<void> {
    if (this.closing || this.lost) return Promise.resolve();
    this.closing = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.session.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.session.ssh.dispose();
    });
  }

  private get label(): string {
    return hostLabel(this.target.name, this.target.address, this.target.port);
  }
}
