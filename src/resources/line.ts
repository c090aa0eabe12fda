// line: one line in a file the resource does not own (a package's config). present: the first line
// matching `match` (extended regex) is replaced, else the line is appended; absent: every matching
// line (or every copy of the line) is removed. The line and the regex only ever reach grep and awk
// as arguments or environment values, never as program text. The file keeps its owner and mode.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import {
  common,
  refuseSecret,
  fail,
  requireAbsPath,
  requireOneLine,
  requirePresence,
  resourceParts,
  seq,
  type Delta,
  type Presence,
} from './common.js';
import { atomicWriteScript } from './atomic-write.js';
import { sha256 } from './managed-file.js';
import { decodeB64, ProbeOutput } from './probe-output.js';

export interface LineOptions extends ResourceCommon {
  path: string;
  line: string;
  /** extended regular expression (grep -E); present: the first matching line is replaced */
  match?: string;
  state?: Presence;
  /** how plans and logs name the line (default: the match regex, or the line itself) */
  name?: string;
}

export interface LineState {
  kind: 'file' | 'missing' | 'other';
  /** the exact line is in the file */
  present: boolean;
  /** present with match: the first matching line */
  first?: { number: number; text: string };
  /** absent: how many lines would be removed, and the first few of them */
  count?: number;
  samples?: string[];
  /** grep -E failed (exit 2): a regex it rejects, or an unreadable file */
  grepFailed?: boolean;
}

/** How many removed lines a plan shows. */
const SAMPLES = 10;

/** Best-effort check in JS of an extended regex (POSIX classes mapped) — skipped if JS cannot read it. */
function jsMatches(ere: string, text: string): boolean | undefined {
  const classes: Record<string, string> = {
    alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z',
    space: ' \\t\\n\\r\\f\\v', blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f',
  };
  try {
    const js = ere.replace(/\[:([a-z]+):\]/g, (m, name: string) => classes[name] ?? m);
    return new RegExp(js).test(text);
  } catch {
    return undefined;
  }
}

export function line(opts: LineOptions): Resource<LineState> {
  const type = 'line';
  const p = requireAbsPath(type, opts?.path, 'path', opts?.path);
  const text = requireOneLine(type, p, 'line', opts.line);
  const match = opts.match === undefined ? undefined : requireOneLine(type, p, 'match', opts.match);
  const state = requirePresence(type, p, opts.state);
  // The id shows in plans and logs: a sensitive line is named by its hash.
  const key = opts.name ?? match ?? (opts.sensitive ? `sha256:${sha256(Buffer.from(text)).slice(0, 16)}` : text);
  refuseSecret(`${type}:${p}`, opts, 'write the secret with a file resource of mode 0600 instead');
  const c = common(type, `${p}:${key}`, opts, { supported: true });
  // Replacing the first match with a line that does not match would match another line next run.
  if (state === 'present' && match !== undefined && jsMatches(match, text) === false) {
    throw new ResourceError(`${c.id}: the line does not match its own match regex, so it would never converge`);
  }
  const shown = (s: string): string => (c.sensitive ? '(sensitive, hidden)' : s);

  // The values, set once; grep and awk read them from "$L" / "$M" / ENVIRON.
  const vars = [`p=${sh(p)}`, `L=${sh(text)}`, ...(match !== undefined ? [`M=${sh(match)}`] : [])];
  const badRegex = `${fail(`line ${c.id}: grep -E rejects the match regex`)}`;

  const probe = (): string => {
    const body = [`echo kind file`];
    if (state === 'present') body.push(`grep -q -a -F -x -e "$L" -- "$p" && echo present`);
    if (state === 'present' && match !== undefined) {
      body.push(
        `r=$(grep -n -a -E -m1 -e "$M" -- "$p"); rc=$?`,
        `if [ $rc -eq 0 ]; then printf 'first %s ' "\${r%%:*}"; printf '%s' "\${r#*:}" | base64 -w0; echo; elif [ $rc -gt 1 ]; then echo grepfailed; fi`,
      );
    }
    if (state === 'absent') {
      const sel = match !== undefined ? `-E -e "$M"` : `-F -x -e "$L"`;
      body.push(
        `n=$(grep -c -a ${sel} -- "$p"); [ $? -gt 1 ] && echo grepfailed`,
        `printf 'count %s\\n' "$n"`,
        `printf 'samples '; grep -a ${sel} -- "$p" | head -n ${SAMPLES} | base64 -w0; echo`,
      );
    }
    return [...vars, `if [ -f "$p" ]; then`, ...body.map((b) => `  ${b}`), `elif [ -e "$p" ]; then echo kind other`, `else echo kind missing`, `fi`].join('\n');
  };

  const parse = (stdout: string): LineState => {
    const out = new ProbeOutput(stdout);
    const kind = (out.get('kind') ?? 'missing') as LineState['kind'];
    const s: LineState = { kind, present: out.has('present') };
    if (out.has('grepfailed')) s.grepFailed = true;
    const first = out.get('first');
    if (first !== undefined) {
      const space = first.indexOf(' ');
      s.first = { number: Number(first.slice(0, space)), text: decodeB64(first.slice(space + 1)) };
    }
    const count = out.get('count');
    if (count !== undefined) {
      s.count = Number(count);
      s.samples = decodeB64(out.get('samples') ?? '').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    }
    return s;
  };

  const delta = (s: LineState): Delta | null => {
    if (s.kind === 'other') return { action: 'update', summary: `${p} is not a regular file: apply will fail` };
    if (s.grepFailed) return { action: 'update', summary: `grep -E failed on ${p} (a regex it rejects?): apply will fail` };
    if (state === 'absent') {
      if (s.kind === 'missing' || !s.count) return null;
      const more = s.count > (s.samples?.length ?? 0) ? `\n… ${s.count - (s.samples?.length ?? 0)} more` : '';
      return {
        action: 'update',
        summary: `remove ${s.count} line${s.count === 1 ? '' : 's'} from ${p}`,
        diff: c.sensitive ? undefined : (s.samples ?? []).map((l) => `- ${l}`).join('\n') + more,
      };
    }
    if (s.kind === 'missing') return { action: 'update', summary: `append a line to ${p}, which does not exist yet`, diff: `+ ${shown(text)}` };
    if (s.first) {
      if (s.first.text === text) return null;
      return { action: 'update', summary: `replace line ${s.first.number} of ${p}`, diff: `- ${shown(s.first.text)}\n+ ${shown(text)}` };
    }
    if (s.present) return null;
    return { action: 'update', summary: `append a line to ${p}`, diff: `+ ${shown(text)}` };
  };

  // Decided again on the host (not from the probed state): the file may have changed since the plan.
  const apply = (): string => {
    const write = (produce: string): string => atomicWriteScript({ path: p, produce, ownership: 'keep', followSymlink: true });
    const mustExist = `[ -f "$p" ] || ${fail(`cannot edit ${p}: not a regular file`)}`;
    // one AND-OR list: the producer's status is its last command's, so each step must pass the next
    const append = write(`cat -- "$p" && { [ -z "$(tail -c1 -- "$p")" ] || echo; } && printf '%s\\n' "$L"`);
    if (state === 'absent') {
      const sel = match !== undefined ? `-E -e "$M"` : `-F -x -e "$L"`;
      const remove = seq(
        mustExist,
        `n=$(grep -c -a ${sel} -- "$p") || [ "$n" = 0 ] || ${badRegex}`,
        `if [ "$n" != 0 ]; then\n${write(`grep -v -a ${sel} -- "$p" || [ $? -eq 1 ]`)}\nfi`,
      );
      return seq(...vars, `if [ -e "$p" ] || [ -L "$p" ]; then\n${remove}\nfi`);
    }
    if (match === undefined) return seq(...vars, mustExist, `if ! grep -q -a -F -x -e "$L" -- "$p"; then\n${append}\nfi`);
    const replace = write(`N="$n" L="$L" awk 'NR == ENVIRON["N"] + 0 { print ENVIRON["L"]; next } { print }' "$p"`);
    return seq(
      ...vars,
      mustExist,
      `r=$(grep -n -a -E -m1 -e "$M" -- "$p") || [ $? -eq 1 ] || ${badRegex}`,
      `n=\${r%%:*}`,
      [
        `if [ -n "$n" ] && [ "\${r#*:}" != "$L" ]; then`,
        replace,
        `elif [ -z "$n" ] && ! grep -q -a -F -x -e "$L" -- "$p"; then`,
        append,
        `fi`,
      ].join('\n'),
    );
  };

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply: () => apply() }),
    ...(c.guard ? { guardPaths: () => [p] } : {}),
  };
}
