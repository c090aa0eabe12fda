// The human side of a Change: field lines ("- mode 0644" / "+ mode 0600"), one-line summaries and
// unified diffs of file content, with binary content and secrets never printed.
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

/** "- mode: 0644\n+ mode: 0600" for each change (the colon keeps "active: inactive" readable) */
export const fieldLines = (changes: readonly FieldChange[]): string =>
  changes.map((c) => `- ${c.field}: ${c.from}\n+ ${c.field}: ${c.to}`).join('\n');

/** "mode: 0644 → 0600, owner: root:root → drand:drand" */
export const fieldSummary = (changes: readonly FieldChange[]): string =>
  changes.map((c) => `${c.field}: ${c.from} → ${c.to}`).join(', ');

/** Text means valid UTF-8 without NUL bytes: only that is shown line by line. */
export function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/**
 * Unified diff of a file's content; `before` null means the file does not exist. Labels follow git:
 * a/etc/foo and b/etc/foo, /dev/null for a side that does not exist.
 */
export function contentPatch(filePath: string, before: Buffer | null, after: Buffer | null): string {
  const b = before ?? Buffer.alloc(0);
  const a = after ?? Buffer.alloc(0);
  if (!isText(b) || !isText(a)) return `binary content: ${b.length} bytes → ${a.length} bytes`;
  const label = filePath.replace(/^\//, '');
  return createTwoFilesPatch(
    before === null ? '/dev/null' : `a/${label}`,
    after === null ? '/dev/null' : `b/${label}`,
    b.toString('utf8'),
    a.toString('utf8'),
    undefined,
    undefined,
    { context: 3, headerOptions: FILE_HEADERS_ONLY },
  ).replace(/\n$/, '');
}

export const joinDiff = (...parts: Array<string | undefined>): string | undefined => {
  const text = parts.filter((p): p is string => p !== undefined && p !== '').join('\n');
  return text === '' ? undefined : text;
};
