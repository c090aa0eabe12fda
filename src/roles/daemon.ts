// The daemon pattern, once: a system user and group, its directories, a binary pinned by sha256, a
// sandboxed unit, the service and its restart handler (drand-node and drand-http-relay use it; a new
// daemon role is mostly declaration). The binary is either `file` (shipped from this repository,
// read and checked at plan time) or `url` (downloaded on the host over https, checked with
// sha256sum, then moved into place; skipped while the installed binary already has its pinned
// hash) — a `.tar.gz` release archive too, with the `member` to install and that member's own pin.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../resources/index.js';
import { sh } from '../shell/quote.js';
import { Source as source } from './net.js';

/** The vars schema of a pinned binary: exactly one of url or file (checked when building), and the pin. */
export function binarySchema(what: string) {
  return Type.Object(
    {
      /** https URL of the binary itself (not an archive); downloaded on the host, checked, installed */
      url: Type.Optional(Type.String({ pattern: '^https://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$', maxLength: 2048 })),
      /** path of the binary in this repository, relative to its root; read and checked at plan time */
      file: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-][A-Za-z0-9._/-]*$', maxLength: 1024 })),
      /** the pin: sha256 of the binary (hex) — of the archive when `member` is given */
      sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      /** `url` is a .tar.gz release archive: the path of the binary inside it */
      member: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-][A-Za-z0-9._/-]*$', maxLength: 1024 })),
      /** with `member`: the sha256 of the binary itself (what is installed and checked on every probe) */
      member_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    },
    { additionalProperties: false, description: `${what}: exactly one of url or file, and its sha256 (a .tar.gz url: member and member_sha256 too)` },
  );
}

export type PinnedBinaryVars = Static<ReturnType<typeof binarySchema>>;

// Vars every pinned daemon role takes alongside its binary (drand-node, drand-http-relay).
const Source = source();

export const daemonVars = (daemon: string, argsExample: string) => ({
  metrics_from: Type.Union([Type.Array(Source), Type.Null()], {
    default: null,
    description: `who may scrape ${daemon} metrics; null: the same as base.monitoring`,
  }),
  extra_args: Type.Array(Type.String({ pattern: '^--[a-z][a-z0-9-]*(=[A-Za-z0-9._:/,@-]+)?$' }), {
    default: [],
    description: `more ${daemon} flags, e.g. ${argsExample}`,
  }),
  extra_packages: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$' }), {
    default: [],
    description: 'Debian packages the daemon needs (the lab stand-in needs python3)',
  }),
});

export interface PinnedBinaryTarget {
  /** where the var lives, for messages: "drand-node.binary" */
  varPath: string;
  /** installed at (root:root 0755) */
  target: string;
  /** the program's name in the command's id: "install <label> <sha12> from <url>" */
  label: string;
  /** handlers notified when the binary changes */
  notify: string[];
}

/** The pin check: pure, throws when the bytes are not the pinned ones. */
export function checkPin(bytes: Buffer, pin: string, label: string, varPath: string): void {
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== pin) {
    throw new Error(
      `${varPath}: ${label} has sha256 ${got}, but the pin ${varPath}.sha256 is ${pin}. ` +
        'The file changed or the pin is stale: check where the file comes from, then update the pin.',
    );
  }
}

/** Read `<varPath>.file` (relative to the repo root) and check it against the pin. */
export function readPinnedFile(rel: string, pin: string, repoPath: (p: string) => string, varPath: string): Buffer {
  if (path.posix.isAbsolute(rel) || rel.split('/').some((s) => s === '..' || s === '')) {
    throw new Error(`${varPath}.file: "${rel}" must be a path inside the repository, relative to its root`);
  }
  const abs = repoPath(rel);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    throw new Error(`${varPath}.file: cannot read ${rel} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  checkPin(bytes, pin, rel, varPath);
  return bytes;
}

/** The resource that puts the pinned binary in place: a file (from the repo) or a download command. */
export function pinnedBinary(b: PinnedBinaryVars, repoPath: (p: string) => string, t: PinnedBinaryTarget): r.Resource {
  if ((b.url === undefined) === (b.file === undefined)) {
    throw new Error(`${t.varPath}: give exactly one of url (downloaded on the host) or file (shipped from the repository)`);
  }
  if (b.file !== undefined) {
    const bytes = readPinnedFile(b.file, b.sha256, repoPath, t.varPath);
    return r.file({ path: t.target, content: bytes, owner: 'root', group: 'root', mode: '0755', notify: t.notify });
  }
  const url = b.url!;
  if ((b.member === undefined) !== (b.member_sha256 === undefined)) {
    throw new Error(`${t.varPath}: member (the binary inside a .tar.gz at url) and member_sha256 (its own pin) go together`);
  }
  if (b.member !== undefined) return archiveMember(b as Required<PinnedBinaryVars>, t);
  // Downloaded on the host to a temp file next to the target, checked against the pin, then moved
  // into place; done when the installed binary already has the pinned hash.
  return r.command({
    name: `install ${t.label} ${b.sha256.slice(0, 12)} from ${url}`,
    unless: `printf '%s  %s\\n' ${b.sha256} ${sh(t.target)} | sha256sum -c --status`,
    run: [
      `t=$(mktemp ${sh(`${t.target}.provision.XXXXXX`)})`,
      `if ! curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 --retry 3 --max-time 600 -o "$t" ${sh(url)}; then`,
      `  rm -f -- "$t"; echo ${sh(`provision: download of ${url} failed`)} >&2; exit 1`,
      `fi`,
      `if ! printf '%s  %s\\n' ${b.sha256} "$t" | sha256sum -c --status; then`,
      `  got=$(sha256sum <"$t" | cut -c1-64); rm -f -- "$t"`,
      `  echo "provision: ${url.replace(/["$`\\]/g, '')} has sha256 $got, the pin ${t.varPath}.sha256 is ${b.sha256}: not installed" >&2; exit 1`,
      `fi`,
      `chown root:root "$t" && chmod 0755 "$t" && mv -fT -- "$t" ${sh(t.target)}`,
    ].join('\n'),
    notify: t.notify,
  });
}

const CURL = `curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 --retry 3 --max-time 600`;

/** A binary inside a .tar.gz release: the archive is checked against its pin, the member against its own. */
function archiveMember(b: Required<PinnedBinaryVars>, t: PinnedBinaryTarget): r.Resource {
  const fail = (msg: string) => `echo ${sh(`provision: ${msg}`)} >&2; exit 1`;
  return r.command({
    name: `install ${t.label} ${b.member_sha256.slice(0, 12)} (${b.member} of ${b.sha256.slice(0, 12)}) from ${b.url}`,
    unless: `printf '%s  %s\\n' ${b.member_sha256} ${sh(t.target)} | sha256sum -c --status`,
    run: [
      `d=$(mktemp -d ${sh(`${t.target}.provision.XXXXXX`)})`,
      `trap 'rm -rf -- "$d"' EXIT`,
      `${CURL} -o "$d/archive.tar.gz" ${sh(b.url)} || { ${fail(`download of ${b.url} failed`)}; }`,
      `printf '%s  %s\\n' ${b.sha256} "$d/archive.tar.gz" | sha256sum -c --status || { ${fail(`${b.url} does not match the pin ${t.varPath}.sha256: not installed`)}; }`,
      `tar -xzf "$d/archive.tar.gz" -O -- ${sh(b.member)} >"$d/bin" || { ${fail(`${b.member} is not in ${b.url}`)}; }`,
      `printf '%s  %s\\n' ${b.member_sha256} "$d/bin" | sha256sum -c --status || { ${fail(`${b.member} of ${b.url} does not match the pin ${t.varPath}.member_sha256: not installed`)}; }`,
      `chown root:root "$d/bin" && chmod 0755 "$d/bin" && mv -fT -- "$d/bin" ${sh(t.target)}`,
    ].join('\n'),
    notify: t.notify,
  });
}

export interface DaemonSpec {
  /** the systemd service (without .service) */
  service: string;
  /** the system user and group it runs as */
  user: string;
  /** the user's home ('/nonexistent': it keeps no state) */
  home: string;
  /** directories the daemon owns (user:user 0700), parents first */
  dirs?: string[];
  /** Debian packages it needs */
  packages: string[];
  binary: PinnedBinaryVars;
  target: PinnedBinaryTarget;
  repoPath: (p: string) => string;
  /** the unit file: the role's own (its sandbox is the role's statement) — it must run as `user` under a sandbox */
  unit: string;
  /** the handler that restarts it (notified by the binary and the unit) */
  restartHandler: string;
}

/** The resources and the restart handler of a daemon, in the order they must be applied. */
export function daemon(d: DaemonSpec): { resources: r.Resource[]; handlers: Record<string, r.Handler> } {
  // the sandbox every daemon gets, whatever else its unit sets
  for (const line of [`User=${d.user}`, 'NoNewPrivileges=yes', 'ProtectSystem=strict']) {
    if (!d.unit.split('\n').includes(line)) throw new Error(`the unit of ${d.service} must set ${line} (a daemon runs as its own user in a sandbox)`);
  }
  const dir = (p: string) => r.directory({ path: p, owner: d.user, group: d.user, mode: '0700' });
  return {
    resources: [
      r.apt({ name: d.packages }),
      // a dedicated system user (seed 000 "Drand Machines": "Run the drand node in isolation with dedicated system users")
      r.group({ name: d.user, system: true }),
      r.user({ name: d.user, system: true, home: d.home, shell: '/usr/sbin/nologin', groups: [] }),
      ...(d.dirs ?? []).map(dir),
      pinnedBinary(d.binary, d.repoPath, d.target),
      r.systemdUnit({ name: `${d.service}.service`, content: d.unit, notify: [d.restartHandler] }),
      r.service({ name: d.service, enabled: true, running: true }),
    ],
    handlers: daemonHandlers(d),
  };
}

/** The daemon's restart handler (a role's handlers() returns it: handlers are built without the unit). */
export const daemonHandlers = (d: Pick<DaemonSpec, 'service' | 'restartHandler'>): Record<string, r.Handler> => ({ [d.restartHandler]: r.restartHandler(d.service) });
