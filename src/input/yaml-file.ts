// YAML files with positions: errors point at the line of the offending value.
import fs from 'node:fs';
import { parseDocument, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import { InputError, type InputProblem } from './errors.js';

export interface YamlFile {
  file: string;
  data: unknown;
  /** 1-based line of the node at a dotted/indexed path, if it exists */
  lineOf(at: string | (string | number)[]): number | undefined;
}

export function readYamlFile(file: string, what: string): YamlFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([{ file, at: '', expected: `a readable ${what}`, found: (e as NodeJS.ErrnoException).code ?? String(e) }]);
  }
  return parseYaml(text, file, what);
}

export function parseYaml(text: string, file: string, what: string): YamlFile {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const problems: InputProblem[] = doc.errors.map((e) => {
      // A duplicate key is most often a host or group defined twice: name it.
      const dup = e.code === 'DUPLICATE_KEY' ? /^\s*([^:\s]+)\s*:/.exec(text.slice(e.pos[0]).split('\n')[0] ?? '') : null;
      return {
        file,
        at: '',
        expected: dup ? `each key once in a map (${what})` : `valid YAML (${what})`,
        found: dup ? `"${dup[1]}" defined twice` : (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, ''),
        line: e.linePos?.[0]?.line,
      };
    });
    throw new InputError(problems);
  }
  const lineCounter = lineStarts(text);
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }) ?? {},
    lineOf: (at) => lineOfPath(doc, typeof at === 'string' ? splitPath(at) : at, lineCounter),
  };
}

export function splitPath(at: string): (string | number)[] {
  if (!at) return [];
  return at.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineOfPath(doc: Document, keys: (string | number)[], starts: number[]): number | undefined {
  let node: Node | null | undefined = doc.contents as Node | null;
  let last: Node | null | undefined = node;
  for (const k of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(k));
      if (!pair) break;
      // Point at the key's line: for a map or list value that is where it starts.
      last = (pair.key as Node) ?? last;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof k === 'number') {
      node = node.items[k] as Node | undefined;
      if (node) last = node;
    } else break;
  }
  const offset = last?.range?.[0];
  if (offset === undefined) return undefined;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
