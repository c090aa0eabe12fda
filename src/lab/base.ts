// A Debian base per release (debian-12, debian-13): bootstrapped ONCE per release and recipe into /var/cache/provision/lab/, shared read-only
// by every host as its overlay lower layer. Built in a temp dir, renamed, then stamped: a directory
// without its stamp is a half-built leftover and is removed, never used.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runOk } from './exec.js';
import { debootstrapMirror, renderHostSources, type AptSource } from './mirror.js';
import { CACHE_DIR } from './paths.js';
import { DEFAULT_RELEASE, RELEASES, type Release } from '../facts/release.js';
import type { LabEmit } from './types.js';

// python3: the Ansible benchmark peer needs it on the hosts.
const INCLUDE = 'openssh-server,systemd,systemd-sysv,dbus,iproute2,sudo,ca-certificates,python3';
// Bump when prepareBase changes, so existing caches are rebuilt rather than silently reused.
const RECIPE = 5;

/** Cache directory name: changes whenever what goes into the base changes. */
export function baseDirFor(suite: string, mirror: string, hostSources: string): string {
  // the key of a bookworm base is what it was before releases existed: its cache stays valid
  const h = createHash('sha256').update(JSON.stringify({ SUITE: suite, INCLUDE, RECIPE, mirror, hostSources })).digest('hex');
  return path.join(CACHE_DIR, `base-${suite}-${h.slice(0, 12)}`);
}

const stampOf = (dir: string) => `${dir}.ok`;

export async function isBaseReady(dir: string): Promise<boolean> {
  return stat(stampOf(dir)).then(() => true, () => false);
}

/** Returns the release's base directory, building it if needed. */
export async function ensureBase(sources: AptSource[], release: Release, emit: LabEmit): Promise<string> {
  const SUITE = RELEASES[release];
  const mirror = debootstrapMirror(sources, release);
  const hostSources = renderHostSources(sources, release);
  const dir = baseDirFor(SUITE, mirror, hostSources);
  if (await isBaseReady(dir)) {
    emit({ type: 'lab.base.cached', dir });
    return dir;
  }
  const log = path.join(CACHE_DIR, 'debootstrap.log');
  emit({ type: 'lab.base.building', dir, mirror, log });
  const started = Date.now();
  const built = await buildOnce(dir, async (tmp) => {
    await writeFile(log, `debootstrap ${SUITE} from ${mirror}\n`);
    const out = await runOk('debootstrap', ['--variant=minbase', `--include=${INCLUDE}`, SUITE, tmp, mirror]).catch(async (err: Error) => {
      const own = await readFile(path.join(tmp, 'debootstrap/debootstrap.log'), 'utf8').catch(() => '');
      await appendFile(log, `${own}\n${err.message}\n`);
      throw new Error(`building the lab base failed (see ${log}): ${err.message.slice(-600)}`);
    });
    await appendFile(log, out);
    await prepareBase(tmp, hostSources);
    return mirror;
  });
  if (built) emit({ type: 'lab.base.built', dir, seconds: Math.round((Date.now() - started) / 100) / 10 });
  return dir;
}

/**
 * Builds a cache directory once: in a temp dir, renamed, then stamped (`build` fills the temp dir and
 * returns what the stamp records). Returns false when another `lab up` finished the same directory
 * meanwhile (theirs is kept). Shared by the release bases and their VM bases (vm.ts).
 */
export async function buildOnce(dir: string, build: (tmp: string) => Promise<string>): Promise<boolean> {
  await mkdir(CACHE_DIR, { recursive: true });
  await rm(dir, { recursive: true, force: true }); // a half-built leftover (renamed, never stamped)
  await removeStaleTemps();
  const tmp = await mkdtemp(path.join(CACHE_DIR, '.tmp-base-'));
  try {
    const what = await build(tmp);
    if (await isBaseReady(dir)) {
      await rm(tmp, { recursive: true, force: true });
      return false;
    }
    await rename(tmp, dir);
    await writeFile(stampOf(dir), `${new Date().toISOString()} ${what}\n`);
    return true;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The base of every release the hosts boot, one after the other (each debootstrap is heavy). */
export async function ensureBases(hosts: { os?: Release }[], sources: AptSource[], emit: LabEmit): Promise<Map<Release, string>> {
  const bases = new Map<Release, string>();
  for (const r of new Set(hosts.map((h) => h.os ?? DEFAULT_RELEASE))) bases.set(r, await ensureBase(sources, r, emit));
  return bases;
}

/** Temp dirs of builds that died (a crash, ^C): anything older than an hour. */
async function removeStaleTemps(): Promise<void> {
  for (const name of await readdir(CACHE_DIR)) {
    if (!name.startsWith('.tmp-base-')) continue;
    const p = path.join(CACHE_DIR, name);
    const s = await stat(p).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > 3600_000) await rm(p, { recursive: true, force: true });
  }
}

/** Makes a freshly bootstrapped tree into a host-neutral base: nothing in it may identify one host. */
async function prepareBase(root: string, hostSources: string): Promise<void> {
  const at = (p: string) => path.join(root, p);
  // The hosts use the same Debian archives as this machine (keys: the base's debian-archive-keyring).
  // First: the updates' maintainer scripts may touch what the steps below make host-neutral.
  await rm(at('etc/apt/sources.list'), { force: true });
  await writeFile(at('etc/apt/sources.list.d/debian.sources'), hostSources);
  await applySecurityUpdates(root);
  // Host keys are per host (made before first boot), never shared through the base.
  for (const f of await readdir(at('etc/ssh'))) if (f.startsWith('ssh_host_')) await rm(at(`etc/ssh/${f}`));
  // Empty machine-id = "not yet set": systemd gives each host its own on first boot. The dbus copy
  // must go too, or systemd adopts it and every host gets the same id.
  await writeFile(at('etc/machine-id'), '');
  await rm(at('var/lib/dbus/machine-id'), { force: true });
  await writeFile(at('etc/hostname'), 'localhost\n'); // debootstrap copied this machine's
  await runOk('systemctl', [`--root=${root}`, 'enable', 'systemd-networkd.service']);
  // Unattended apt runs would fight the provisioner for the dpkg lock; fstrim/e2scrub make no sense here.
  await runOk('systemctl', [`--root=${root}`, 'mask', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'fstrim.timer', 'e2scrub_all.timer', 'e2scrub_reap.service']);
  await labSshdSettings(at('etc/ssh/sshd_config'));
  await dropPamTtyAudit(at('etc/pam.d'));
  await mkdir(at('root/.ssh'), { recursive: true, mode: 0o700 });
  const archives = at('var/cache/apt/archives');
  for (const f of await readdir(archives)) if (f.endsWith('.deb')) await rm(path.join(archives, f));
}

/**
 * debootstrap installs the release as it shipped; Debian's security archive has had updates since
 * (≈20 packages on bookworm). Without them in the base, every fresh host's first apply installs them
 * (base's security updates are convergence), ≈40 s per host and ≈10 min over the CI suite. A base
 * is built once per release and recipe; updates published after it are still planned and applied.
 */
async function applySecurityUpdates(root: string): Promise<void> {
  await runInTree(root, 'apt-get -q update && apt-get -q -y -o Dpkg::Options::=--force-confold upgrade && apt-get clean');
}

/**
 * Runs a shell script inside a base tree being built: a throwaway nspawn container (a chroot lacks
 * /proc for maintainer scripts), on this machine's network, with the archives the hosts use.
 */
export async function runInTree(root: string, script: string): Promise<string> {
  return runOk('systemd-nspawn', [
    // as the hosts boot (host.ts): no machined, no systemd scope here; the mirror is resolved as this machine does
    '--quiet', '--register=no', '--keep-unit', '--resolv-conf=copy-host', '--link-journal=no', '--pipe', `--directory=${root}`, '--setenv=DEBIAN_FRONTEND=noninteractive',
    '/bin/sh', '-c', script,
  ]);
}

/**
 * The lab's own sshd settings go in the main sshd_config, AFTER its `Include sshd_config.d/*.conf`:
 * sshd keeps the first value it reads, so every setting a role writes in sshd_config.d wins over
 * them. (A drop-in of the lab's own would compete with the base role's and be quarantined by it.)
 * Only the one host key made for this host before first boot, and no passwords until a role says so.
 */
async function labSshdSettings(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!/^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m.test(text)) throw new Error(`${file}: no Include of sshd_config.d found: the lab's settings would not come after the roles'`);
  await writeFile(file, `${text.replace(/\n*$/, '\n')}\n# provision lab (after the Include: the roles' drop-ins win)\nHostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\n`);
}

/** pam_tty_audit needs the audit subsystem, which a container may not use: with it, every SSH session fails. */
async function dropPamTtyAudit(pamDir: string): Promise<void> {
  for (const f of await readdir(pamDir)) {
    const p = path.join(pamDir, f);
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text === undefined || !text.includes('pam_tty_audit')) continue;
    await writeFile(p, text.split('\n').filter((l) => !/^\s*[^#].*pam_tty_audit/.test(l)).join('\n'));
  }
}
