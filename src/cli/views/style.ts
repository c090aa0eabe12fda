// Colours only on a terminal; CI logs and pipes get plain text.
import { styleText } from 'node:util';

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold' | 'dim';

export function styler(enabled: boolean) {
  return (colour: Colour, text: string): string => (enabled ? styleText(colour, text) : text);
}

export type Style = ReturnType<typeof styler>;
