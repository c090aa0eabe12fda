// A daemon binary pinned by sha256: the one implementation shared by the roles that install one
// (drand-node, drand-http-relay). Either `file` (shipped from this repository, read and checked at
// plan time) or `url` (downloaded on the host over https, checked with sha256sum, then moved into
// place; skipped while the installed binary already has the pinned hash).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { sh } from '../../src/shell/quote.js';
import { Source as source } from '../../src/roles/net.js';

/** The vars schema of a pinned binary: exactly one of url or file (checked when building), and the pin. */
export function binarySchema(what: string) {
  return Type.Object(
    {
      /** https URL of the binary itself (not an archive); downloaded on the host, checked, installed */
      url: Type.Optional(Type.String({ pattern: '^https://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$', maxLength: 2048 })),
      /** path of the binary in this repository, relative to its root; read and checked at plan time */
      file: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-][A-Za-z0-9._/-]*$', maxLength: 1024 })),
      /** the pin: sha256 of the binary (hex) */
      sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    },
    { additionalProperties: false, description: `${what}: exactly one of url or file, and its sha256` },
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
