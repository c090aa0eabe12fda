// The CLI's only way to the terminal. Commands write through it; tests can capture it.
import { styler, type Style } from './views/style.js';

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
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    style: styler(!!process.stdout.isTTY && !process.env.CI && !process.env.NO_COLOR),
    interactive,
  };
}
