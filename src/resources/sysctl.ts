// sysctl: a kernel parameter, live (sysctl -w) and persisted in /etc/sysctl.d. Both are probed, so a
// value changed by hand, or a file edited without reloading, shows as drift.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { common, refuseSecret, requireOneLine, resourceParts, seq, type Delta } from './common.js';
import { fileProbe, parseFileState, presentDelta, writeScript, type FileState, type ManagedFile } from './managed-file.js';
import { ProbeOutput } from './probe-output.js';
import { fieldLines, fieldSummary, joinDiff, type FieldChange } from './render-diff.js';

export interface SysctlOptions extends ResourceCommon {
  /** dotted key, e.g. net.ipv4.ip_forward */
  key: string;
  /** several numbers are separated by spaces: '32768 60999' */
  value: string | number;
  /**
   * the two-digit prefix of its file in /etc/sysctl.d (default 60): systemd-sysctl applies the
   * files at boot in name order, so a key the kernel reacts to (forwarding) can come first
   */
  order?: number;
  /**
   * keys the kernel itself rewrites when this key's value changes, with the values they must keep
   * (net.ipv4.ip_forward → net.ipv4.conf.all.accept_redirects): apply sets them again right after
   * this key, in the same step, and the plan says so — their own resources may be converged already
   */
  resets?: Record<string, string | number>;
}

export interface SysctlState {
  file: FileState;
  /** whitespace-normalised live value; undefined when the kernel has no such key */
  live?: string;
}

/** sysctl -n separates several numbers with tabs; compare with single spaces */
const normalize = (v: string): string => v.trim().split(/\s+/).join(' ');

export const sysctlPath = (key: string, order = 60): string => `/etc/sysctl.d/${order}-provision-${key}.conf`;

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** Where the kernel shows a key (what sysctl(8) reads: the dots are directories). */
const procPath = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;

export function sysctl(opts: SysctlOptions): Resource<SysctlState> {
  const type = 'sysctl';
  const key = opts?.key;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new ResourceError(`${type}:${String(key)}: the key must be dotted words like net.ipv4.ip_forward`);
  }
  if (typeof opts.value !== 'string' && typeof opts.value !== 'number') throw new ResourceError(`${type}:${key}: value must be a string or a number`);
  const value = normalize(requireOneLine(type, key, 'value', String(opts.value)));
  if (value === '') throw new ResourceError(`${type}:${key}: value is empty`);
  refuseSecret(`${type}:${key}`, opts, 'sysctl values are world-readable');
  const order = opts.order ?? 60;
  if (!Number.isInteger(order) || order < 10 || order > 99) throw new ResourceError(`${type}:${key}: order must be a whole number from 10 to 99 (the file's prefix)`);
  const resets = Object.entries(opts.resets ?? {}).map(([k, v]) => {
    if (!KEY.test(k) || k === key) throw new ResourceError(`${type}:${key}: resets: "${k}" is not another dotted key`);
    return [k, normalize(requireOneLine(type, key, `resets.${k}`, String(v)))] as const;
  });
  const c = common(type, key, opts);
  const spec: ManagedFile = {
    path: sysctlPath(key, order),
    content: Buffer.from(`${key} = ${value}\n`),
    owner: 'root',
    group: 'root',
    mode: '0644',
    sensitive: c.sensitive,
  };

  const probe = (): string =>
    [
      fileProbe(spec),
      // the live value from /proc/sys with one `cat` (`sysctl -n | tr` cost two more processes a key:
      // base's 28 sysctls made a third of a node's probe); the subshell joins its words on one line
      `if v=$(cat ${sh(procPath(key))} 2>/dev/null); then (set -f; set -- $v; printf 'live %s\\n' "$*"); else echo nokey; fi`,
    ].join('\n');

  const parse = (stdout: string): SysctlState => {
    const out = new ProbeOutput(stdout);
    const live = out.get('live');
    return { file: parseFileState(out), ...(live !== undefined ? { live: normalize(live) } : {}) };
  };

  const liveChange = (s: SysctlState): FieldChange | null =>
    s.live === value ? null : { field: key, from: s.live === undefined ? '(no such key)' : c.sensitive ? '(hidden)' : s.live, to: c.sensitive ? '(hidden)' : value };

  const delta = (s: SysctlState): Delta | null => {
    const live = liveChange(s);
    const file = presentDelta(spec, s.file);
    if (!live && !file) return null;
    const again = resets.length ? ` (the kernel then resets ${resets.map(([k]) => k).join(', ')}: set again to ${resets.map(([, v]) => v).join(', ')})` : '';
    const summary = [
      ...(live ? [`set ${fieldSummary([live])}${s.live === undefined ? ' (unknown to this kernel: apply will fail)' : again}`] : []),
      ...(file ? [`persist in ${spec.path}`] : []),
    ].join(', ');
    return { action: 'update', summary, diff: joinDiff(live ? fieldLines([live]) : undefined, file?.diff) };
  };

  // Live first: a value the kernel refuses is never persisted. What the kernel reset on the way is
  // set again at once (only a change of the value makes the kernel touch it).
  const apply = (s: SysctlState): string =>
    seq(
      liveChange(s) !== null && `sysctl -q -w ${[[key, value] as const, ...resets].map(([k, v]) => sh(`${k}=${v}`)).join(' ')}`,
      presentDelta(spec, s.file) !== null && writeScript(spec, s.file),
    );

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
  };
}
