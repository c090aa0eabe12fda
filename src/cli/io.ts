// The CLI's only way to the terminal. Commands write through it; tests can capture it.
import { styler, type Style } from './views/style.js';
import { redact } from '../secrets/value.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  style: Style;
  /** a person is watching: spinners and colours */
  interactive: boolean;
}

export function processIo(): Io {
  const interactive = !!process.stderr.isTTY && !process.env.CI;
  return {
    // The last line of defence: whatever a view renders, a known secret never reaches the terminal.
    out: (l) => process.stdout.write(redact(l) + '\n'),
    err: (l) => process.stderr.write(redact(l) + '\n'),
    style: styler(!!process.stdout.isTTY && !process.env.CI && !process.env.NO_COLOR),
    interactive,
  };
}
