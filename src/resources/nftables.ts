// nftables: the firewall ruleset file AND the ruleset loaded in the kernel. At load time the hash of
// the file and the hash of `nft -s list ruleset` (stateless: no counters) are recorded under
// /var/lib/provision; the probe compares both, so an edited file, a ruleset never loaded, and a
// live ruleset changed behind our back (`nft flush ruleset`, a hand-added rule) are all drift.
// Caveat: so would sets that gain elements from the packet path, and tables other software adds
// (docker, fail2ban): this resource owns the whole ruleset.
import type { Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { asApply, common, requireAbsPath, resourceParts, seq, STATE_DIR, type Delta } from './common.js';
import { contentDiffers, fileProbe, parseFileState, presentDelta, sha256, writeScript, type FileState, type ManagedFile } from './managed-file.js';
import { setOwnershipScript, ownershipChanges } from './file-meta.js';
import { ProbeOutput } from './probe-output.js';

export interface NftablesOptions extends ResourceCommon {
  /** the complete ruleset; it must start over (flush ruleset, or delete/flush its tables) */
  ruleset: string;
  path?: string;
}

export interface NftablesState {
  file: FileState;
  /** what provision recorded when it last loaded the ruleset */
  loaded?: { fileSha256: string; liveSha256: string };
  /** sha256 of `nft -s list ruleset` now; undefined when nft is not installed */
  liveSha256?: string;
}

const LIVE_SHA = `"$(nft -s list ruleset | sha256sum | cut -c1-64)"`;

export function nftables(opts: NftablesOptions): Resource<NftablesState> {
  const type = 'nftables';
  const p = requireAbsPath(type, opts?.path ?? '/etc/nftables.conf', 'path', opts?.path ?? '/etc/nftables.conf');
  const c = common(type, p, opts, { supported: true, byDefault: true });
  if (typeof opts.ruleset !== 'string' || opts.ruleset.trim() === '') throw new ResourceError(`${c.id}: ruleset must be a non-empty string`);
  if (!/^\s*(flush\s+ruleset|flush\s+table|delete\s+table|destroy\s+table)\b/m.test(opts.ruleset)) {
    throw new ResourceError(`${c.id}: the ruleset must start over (flush ruleset, or delete/flush its tables), else every load appends duplicates`);
  }
  // Debian ships /etc/nftables.conf as an executable `#!/usr/sbin/nft -f` script.
  const spec: ManagedFile = { path: p, content: Buffer.from(opts.ruleset), owner: 'root', group: 'root', mode: '0755', sensitive: c.sensitive };
  const wantSha = sha256(spec.content ?? Buffer.alloc(0));
  const stateFile = `${STATE_DIR}/nftables${p.replace(/[^A-Za-z0-9._-]/g, '_')}.loaded`;
  const record = (fileSha: string): string => seq(`mkdir -p ${STATE_DIR}`, `printf '%s %s\\n' ${fileSha} ${LIVE_SHA} >${sh(stateFile)}`);

  const probe = (): string =>
    [
      fileProbe(spec),
      `if [ -f ${sh(stateFile)} ]; then printf 'loaded %s\\n' "$(cat -- ${sh(stateFile)})"; fi`,
      `if command -v nft >/dev/null 2>&1; then printf 'live %s\\n' ${LIVE_SHA}; else echo nonft; fi`,
    ].join('\n');

  const parse = (stdout: string): NftablesState => {
    const out = new ProbeOutput(stdout);
    const s: NftablesState = { file: parseFileState(out) };
    const [fileSha256, liveSha256] = (out.get('loaded') ?? '').split(' ');
    if (fileSha256 && liveSha256) s.loaded = { fileSha256, liveSha256 };
    const live = out.get('live');
    if (live !== undefined) s.liveSha256 = live;
    return s;
  };

  /** why the kernel's ruleset is not the file's, or null */
  const reloadReason = (s: NftablesState): string | null => {
    if (s.liveSha256 === undefined) return 'nft is not installed yet';
    if (!s.loaded) return 'never loaded by provision';
    if (s.loaded.fileSha256 !== wantSha) return 'another ruleset is loaded';
    if (s.loaded.liveSha256 !== s.liveSha256) return 'the live ruleset changed since it was loaded (flushed or edited by hand)';
    return null;
  };

  const delta = (s: NftablesState): Delta | null => {
    const file = presentDelta(spec, s.file);
    const reason = reloadReason(s);
    if (file && contentDiffers(spec, s.file)) return { ...file, summary: `${file.summary}, then load it` };
    if (!reason) return file;
    const reload = `reload ${p}: ${reason}`;
    return file ? { ...file, summary: `${file.summary}; ${reload}` } : { action: 'update', summary: reload };
  };

  const apply = (s: NftablesState): string => {
    if (contentDiffers(spec, s.file)) {
      // check, then load from the temp file: a ruleset the kernel refuses never replaces the file
      return seq(writeScript(spec, s.file, `( nft -c -f "$t" && nft -f "$t" )`), record(wantSha));
    }
    const reload = reloadReason(s) !== null;
    return seq(
      `p=${sh(p)}`,
      ownershipChanges(s.file, spec).length > 0 && setOwnershipScript('"$p"', spec),
      reload && `nft -c -f "$p"`,
      reload && `nft -f "$p"`,
      reload && record(wantSha),
    );
  };

  const guardRestore = (): string =>
    asApply(
      seq(
        `p=${sh(p)}`,
        [
          `if [ -f "$p" ]; then`,
          seq(`nft -f "$p"`, record(`"$(sha256sum <"$p" | cut -c1-64)"`)),
          `else`,
          seq(`nft flush ruleset`, `rm -f -- ${sh(stateFile)}`),
          `fi`,
        ].join('\n'),
      ),
    );

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
    ...(c.guard ? { guardPaths: () => [p], guardRestore } : {}),
  };
}
