#!/usr/bin/env node
// The provision command. The only code that prints or exits.
import { parse, USAGE, UsageError } from './args.js';
import { processIo } from './io.js';
import { InputError } from '../input/errors.js';
// Commands are imported when they run: a no-op apply should not pay for loading the lab code,
// nor `lab status` for the engine (start-up is a fixed cost of every run).
const engine = () => import('./commands/engine.js');

async function main(argv: string[]): Promise<number> {
  const io = processIo();
  try {
    const a = parse(argv);
    if (a.help || !a.command) {
      io.out(USAGE);
      return a.help ? 0 : 1;
    }
    switch (a.command) {
      case 'check':
        return await (await engine()).checkCommand(a, io);
      case 'plan':
        return await (await engine()).planOrApply('plan', a, io);
      case 'apply':
        return await (await engine()).planOrApply('apply', a, io);
      case 'status':
        return await (await engine()).planOrApply('status', a, io);
      case 'snapshot':
        return await (await import('./commands/rebuild.js')).snapshotCommand(a, io);
      case 'rebuild':
        return await (await import('./commands/rebuild.js')).rebuildCommand(a, io);
      case 'inventory':
        return (await import('./commands/inventory.js')).inventoryCommand(a, io);
      case 'secrets':
        return await (await import('./commands/secrets.js')).secretsCommand(a, io);
      case 'lab':
        return await (await import('./commands/lab-main.js')).labMain(a, io);
      default:
        throw new UsageError(`unknown command "${a.command}"`);
    }
  } catch (e) {
    if (e instanceof InputError) {
      io.err(io.style('red', `error: invalid input — nothing was changed, no connection was opened\n`) + e.message);
      return 1;
    }
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\n\n${USAGE}`);
      return 1;
    }
    io.err(io.style('red', `error: ${(e as Error).message}`));
    if (process.env.PROVISION_DEBUG) io.err((e as Error).stack ?? '');
    return 1;
  }
}

// Exit explicitly (an SSH keepalive timer must not keep a finished run alive), but only once
// stdout has drained: exiting at once cut a 377 KB --json report on a pipe at 219 KB.
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
