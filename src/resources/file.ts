// file: a whole file with its content, owner and mode, written atomically (optionally validated).
import { ResourceError, type Resource, type ResourceCommon } from './types.js';
import { common, requirePrivateMode, asProbe, asApply, toChange, requireAbsPath, requireAccount, requireMode, requirePresence, requireString, type Presence } from './common.js';
import { validateCommand } from './atomic-write.js';
import {
  absentDelta,
  fileProbe,
  parseFileState,
  presentDelta,
  removeScript,
  writeScript,
  type FileState,
  type ManagedFile,
} from './managed-file.js';
import { ProbeOutput } from './probe-output.js';
import { isSecret, type SecretValue } from '../secrets/value.js';

export type { FileState };

export interface FileOptions extends ResourceCommon {
  path: string;
  /** text or bytes (a secret var as it is); omitted: only existence, owner and mode are managed */
  content?: string | Buffer | SecretValue;
  state?: Presence;
  owner?: string;
  group?: string;
  mode?: string;
  /** sh command checking the new content before it replaces the file; %s is the temp file, unquoted: 'sshd -t -f %s' */
  validate?: string;
}

export interface FileResource extends Resource<FileState> {
  readonly path: string;
}

export function toContent(type: string, key: string, content: unknown): Buffer | undefined {
  if (content === undefined) return undefined;
  if (isSecret(content)) return Buffer.from(content.reveal(), 'utf8');
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (Buffer.isBuffer(content)) return Buffer.from(content);
  throw new ResourceError(`${type}:${key}: content must be a string or a Buffer`);
}

export function file(opts: FileOptions): FileResource {
  const type = 'file';
  const p = requireAbsPath(type, opts?.path, 'path', opts?.path);
  const state = requirePresence(type, p, opts.state);
  const c = common(type, p, opts, { supported: true });
  const spec: ManagedFile = {
    path: p,
    content: toContent(type, p, opts.content),
    owner: requireAccount(type, p, 'owner', opts.owner ?? 'root'),
    group: requireAccount(type, p, 'group', opts.group ?? 'root'),
    mode: requireMode(type, p, opts.mode ?? '0644'),
    sensitive: c.sensitive,
  };
  requirePrivateMode(c.id, c.sensitive, spec.mode);
  let validate: string | undefined;
  if (opts.validate !== undefined) {
    validate = requireString(type, p, 'validate', opts.validate);
    if (!validate.includes('%s')) throw new ResourceError(`${c.id}: validate must contain %s (the temp file to check)`);
  }
  if (state === 'absent' && opts.content !== undefined) throw new ResourceError(`${c.id}: content given for an absent file`);

  return {
    ...c,
    path: p,
    probe: () => asProbe(fileProbe(state === 'present' ? spec : { ...spec, content: undefined })),
    parse: (stdout) => parseFileState(new ProbeOutput(stdout)),
    diff: (s) => toChange(c, state === 'present' ? presentDelta(spec, s) : absentDelta(spec, s)),
    apply: (s) => asApply(state === 'present' ? writeScript(spec, s, validate && validateCommand(validate)) : removeScript(p)),
    ...(c.guard ? { guardPaths: () => [p] } : {}),
  };
}
