// The core of every resource that owns a whole file (file, systemdUnit, sysctl, nftables): probe
// by hash, diff with redaction, atomic write. The types around it add their own checks and steps.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { sh, shBytes } from '../shell/quote.js';
import { fail, seq, type Delta } from './common.js';
import { atomicWriteScript } from './atomic-write.js';
import { metaProbe, ownershipChanges, parseMeta, setOwnershipScript, type Meta, type Ownership } from './file-meta.js';
import type { ProbeOutput } from './probe-output.js';
import { contentPatch, fieldLines, fieldSummary, joinDiff } from './render-diff.js';

/** Current content is shown in a plan only up to this size: a no-op probe stays tiny, a diff stays readable. */
export const MAX_SHOWN_BYTES = 512 * 1024;

export interface ManagedFile extends Ownership {
  path: string;
  /** undefined: manage existence, owner and mode only; an existing content is left alone */
  content?: Buffer;
  sensitive: boolean;
}

export interface FileState extends Meta {
  sha256?: string;
  /** current content, base64; only when it differs from the desired one, is small and not sensitive */
  contentB64?: string;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Probe: kind/stat lines, and for a regular file its sha256 plus the content when it differs. */
export function fileProbe(f: ManagedFile): string {
  const lines = [metaProbe(f.path)];
  if (f.content !== undefined) {
    const showContent = f.sensitive
      ? ''
      : `\n  if [ "$h" != ${sha256(f.content)} ] && [ "\${st##* }" -le ${MAX_SHOWN_BYTES} ]; then printf 'content '; base64 -w0 <"$p"; echo; fi`;
    // sha256sum prints "HASH  -": the shell cuts it, no pipe and no cut process
    const hash = `h=$(sha256sum <"$p"); h=\${h%% *}`;
    const one = oneLine(f);
    // a one-line file (a sysctl's, a drop-in's) is compared by the shell itself: the right size and
    // the right first line are the whole content, so its hash is the desired one, with no process
    const compute = one === undefined ? hash : `if [ "\${st##* }" = ${f.content.length} ] && IFS= read -r l <"$p" && [ "$l" = ${sh(one)} ]; then h=${sha256(f.content)}; else ${hash}; fi`;
    lines.push(`if [ "$k" = file ]; then\n  ${compute}\n  echo "sha256 $h"${showContent}\nfi`);
  }
  return lines.join('\n');
}

/** The desired content's one line (without its newline) when the shell can compare it exactly: printable ASCII, not sensitive. */
function oneLine(f: ManagedFile): string | undefined {
  const c = f.content;
  if (!c || f.sensitive || c.length > 4096 || c[c.length - 1] !== 0x0a) return undefined;
  for (let i = 0; i < c.length - 1; i++) if (c[i]! !== 0x09 && (c[i]! < 0x20 || c[i]! > 0x7e)) return undefined;
  return c.subarray(0, c.length - 1).toString('ascii');
}

export function parseFileState(out: ProbeOutput): FileState {
  const state: FileState = parseMeta(out);
  const hash = out.get('sha256');
  if (hash !== undefined) state.sha256 = hash;
  const content = out.get('content');
  if (content !== undefined) state.contentB64 = content;
  return state;
}

export const contentDiffers = (f: ManagedFile, s: FileState): boolean =>
  s.kind !== 'file' || (f.content !== undefined && s.sha256 !== sha256(f.content));

function contentDiff(f: ManagedFile, s: FileState): string | undefined {
  if (f.content === undefined) return undefined;
  if (f.sensitive) return `content: (sensitive) ${s.kind === 'file' ? 'changed' : 'new'}`;
  if (s.kind !== 'file') return f.content.length <= MAX_SHOWN_BYTES ? contentPatch(f.path, null, f.content) : undefined;
  if (s.contentB64 === undefined || f.content.length > MAX_SHOWN_BYTES) {
    return `content: ${s.size ?? '?'} bytes (sha256 ${s.sha256?.slice(0, 12)}…) → ${f.content.length} bytes (sha256 ${sha256(f.content).slice(0, 12)}…), too large to show`;
  }
  return contentPatch(f.path, Buffer.from(s.contentB64, 'base64'), f.content);
}

/** null when the file is there with the wanted content, owner and mode */
export function presentDelta(f: ManagedFile, s: FileState): Delta | null {
  const own = `${f.owner}:${f.group} ${f.mode}`;
  switch (s.kind) {
    case 'missing': {
      const dir = path.posix.dirname(f.path);
      const note = s.parentMissing ? ` (directory ${dir} does not exist yet)` : '';
      return { action: 'create', summary: `create ${f.path} (${own})${note}`, diff: joinDiff(contentDiff(f, s)) };
    }
    case 'dir':
      return { action: 'update', summary: `${f.path} is a directory, not a file: apply will fail` };
    case 'link':
    case 'other':
      return {
        action: 'update',
        summary: `replace the ${s.kind === 'link' ? 'symlink' : 'special file'} ${f.path} with a file (${own})`,
        diff: joinDiff(contentDiff(f, s)),
      };
    case 'file': {
      const content = contentDiffers(f, s);
      const fields = ownershipChanges(s, f);
      if (!content && fields.length === 0) return null;
      const parts = [
        ...(content ? [f.sensitive ? '(sensitive) changed' : 'content changed'] : []),
        ...(fields.length ? [fieldSummary(fields)] : []),
      ];
      return {
        action: 'update',
        summary: `update ${f.path}: ${parts.join(', ')}`,
        diff: joinDiff(content ? contentDiff(f, s) : undefined, fieldLines(fields)),
      };
    }
  }
}

export function absentDelta(f: Pick<ManagedFile, 'path'>, s: FileState): Delta | null {
  if (s.kind === 'missing') return null;
  if (s.kind === 'dir') return { action: 'delete', summary: `${f.path} is a directory, not a file: apply will fail` };
  return { action: 'delete', summary: `remove ${f.path}` };
}

/**
 * sh converging a present file. Only owner/mode differ → chown/chmod in place; otherwise an atomic
 * write, with `beforeMove` run on the complete temp file "$t" (validation, loading a ruleset…).
 */
export function writeScript(f: ManagedFile, s: FileState, beforeMove?: string): string {
  if (!contentDiffers(f, s)) {
    return ownershipChanges(s, f).length ? seq(`p=${sh(f.path)}`, setOwnershipScript('"$p"', f)) : '';
  }
  return atomicWriteScript({
    path: f.path,
    produce: f.content !== undefined ? shBytes(f.content) : ':',
    ownership: f,
    ...(beforeMove ? { beforeMove } : {}),
  });
}

export const removeScript = (filePath: string): string =>
  seq(`p=${sh(filePath)}`, `if [ -d "$p" ] && [ ! -L "$p" ]; then ${fail(`cannot remove ${filePath}: it is a directory`)}; fi`, `rm -f -- "$p"`);
