// command: a script run once, guarded by `creates` (a path that exists afterwards) and/or `unless`
// (a read-only sh test, exit 0 = already done). Without a guard it could never converge: refused.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, asProbe, common, refuseSecret, requireAbsPath, requireOneLine, requireString, seq, toChange, type Delta } from './common.js';
import { ProbeOutput } from './probe-output.js';
import { isSecret, type SecretValue } from '../secrets/value.js';

export interface CommandOptions extends ResourceCommon {
  /** what it does, for the plan: "initialise the drand key pair" */
  name: string;
  /** sh run as root under set -eu, stdin /dev/null */
  run: string;
  /** done when this path exists */
  creates?: string;
  /** done when this sh exits 0; runs in every probe, as root: it must be cheap and read-only */
  unless?: string;
  /**
   * text given to `run` on its stdin — the way to pass a secret (a token, a password): a shell
   * builtin pipes it in, so it is never on any process's command line. A secret anywhere else in
   * the command is refused.
   */
  stdin?: string | SecretValue;
}

export interface CommandState {
  /** `creates` exists or `unless` succeeded */
  done: boolean;
}

export function command(opts: CommandOptions): Resource<CommandState> {
  const type = 'command';
  const name = requireOneLine(type, opts?.name, 'name', opts?.name);
  const run = requireString(type, name, 'run', opts.run);
  const creates = opts.creates === undefined ? undefined : requireAbsPath(type, name, 'creates', opts.creates);
  const unless = opts.unless === undefined ? undefined : requireString(type, name, 'unless', opts.unless);
  const c = common(type, name, opts);
  refuseSecretInCommand(c.id, { name, run, creates, unless });
  const stdin = isSecret(opts.stdin) ? opts.stdin.reveal() : opts.stdin === undefined ? undefined : requireString(type, name, 'stdin', opts.stdin);
  if (creates === undefined && unless === undefined) {
    throw new ResourceError(`${c.id}: give creates or unless, else the command runs on every apply and never converges`);
  }

  const probe = (): string =>
    [
      ...(creates !== undefined ? [`if [ -e ${sh(creates)} ] || [ -L ${sh(creates)} ]; then echo done; fi`] : []),
      // its own subshell: an `exit` in the test ends the test, never the probe script
      ...(unless !== undefined ? [`if (\n${unless}\n) >/dev/null 2>&1; then echo done; fi`] : []),
    ].join('\n');

  const delta = (s: CommandState): Delta | null => {
    if (s.done) return null;
    const why = creates !== undefined ? `${creates} does not exist` : 'its unless test fails';
    return { action: 'run', summary: `run "${name}" (${why})`, ...(c.sensitive ? {} : { diff: run.replace(/\n$/, '').split('\n').map((l) => `+ ${l}`).join('\n') }) };
  };

  return {
    ...c,
    probe: () => asProbe(probe()),
    parse: (stdout) => ({ done: new ProbeOutput(stdout).has('done') }),
    diff: (s) => toChange(c, delta(s)),
    // printf is a builtin of the remote sh: the value goes from the script (itself on sh's stdin) into a pipe.
    apply: (s) => asApply(seq(!s.done && (stdin === undefined ? `(\n${run}\n)` : `printf '%s' ${sh(stdin)} | (\n${run}\n)`))),
  };
}

/** A secret in a command line would show in `ps` and in audit logs: it must go over stdin. */
function refuseSecretInCommand(id: string, fields: object): void {
  refuseSecret(id, fields, 'give it to the command on stdin (the stdin option), never in run, unless, creates or name');
}
