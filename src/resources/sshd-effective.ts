// sshdEffective: the sshd settings IN EFFECT for one connection (`sshd -T -C user=…,host=…,addr=…`),
// compared with what the roles declare. sshd keeps the first value it reads, so a file sorting
// before provision's, a Match block or an edit of sshd_config can override a role's file while that
// file is intact. This resource writes nothing: the files that make the settings are other
// resources (the role's drop-in, and conf-dir quarantining what others put there); it shows what is
// in effect, and the convergence check after apply fails the host if a setting is still wrong.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { common, requireAccount, requireOneLine, resourceParts, type Delta } from './common.js';
import { ProbeOutput } from './probe-output.js';
import { fieldLines, fieldSummary, type FieldChange } from './render-diff.js';

export interface SshdEffectiveOptions extends ResourceCommon {
  /** the connection sshd is asked about */
  user: string;
  addr: string;
  /** settings as `sshd -T` prints them: lowercase keyword → value (compared without case) */
  expect: Record<string, string>;
}

export interface SshdEffectiveState {
  /** the expected keywords as sshd reports them now; undefined: sshd -T gave no answer */
  settings?: Record<string, string>;
}

export function sshdEffective(opts: SshdEffectiveOptions): Resource<SshdEffectiveState> {
  const type = 'sshd-effective';
  const user = requireAccount(type, opts?.user, 'user', opts?.user);
  const addr = requireOneLine(type, user, 'addr', opts.addr);
  if (!/^[0-9A-Fa-f:.]+$/.test(addr)) throw new ResourceError(`${type}:${user}: addr must be an IP address, got ${JSON.stringify(addr)}`);
  const c = common(type, `${user}@${addr}`, opts);
  const expect = Object.entries(opts.expect ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)] as const);
  if (expect.length === 0) throw new ResourceError(`${c.id}: expect names no setting: nothing to compare`);
  const conn = `user=${user},host=provision-check,addr=${addr}`;

  const probe = (): string => `/usr/sbin/sshd -T -C ${sh(conn)} 2>/dev/null || echo 'sshd-T-failed'`;

  const parse = (stdout: string): SshdEffectiveState => {
    const out = new ProbeOutput(stdout);
    if (out.has('sshd-T-failed') || !out.has('port')) return {};
    return { settings: Object.fromEntries(expect.map(([k]) => [k, out.all(k).join(' ')])) };
  };

  const delta = (s: SshdEffectiveState): Delta | null => {
    if (!s.settings) return { action: 'update', summary: `sshd -T for ${user} from ${addr} gives no answer (sshd missing or its configuration does not parse)` };
    const fields: FieldChange[] = expect
      .filter(([k, v]) => (s.settings![k] ?? '').toLowerCase() !== v.toLowerCase())
      .map(([k, v]) => ({ field: k, from: s.settings![k] || '(unset)', to: v }));
    if (fields.length === 0) return null;
    return {
      action: 'update',
      summary: `sshd in effect for ${user} from ${addr}: ${fieldSummary(fields)} (made by the sshd changes of this plan; checked again after apply)`,
      diff: fieldLines(fields),
    };
  };

  // Nothing to write: the configuration must still parse (sshd -t); the verification does the rest.
  const apply = (): string => '/usr/sbin/sshd -t';

  return { ...c, ...resourceParts(c, { probe, parse, delta, apply }) };
}
