// Overlay mounts of host roots: lower = the shared base (read-only), upper/work = the host's own.
import { mkdir, readFile } from 'node:fs/promises';
import { runOk } from './exec.js';

/** Mount points from /proc/self/mountinfo (field 5, with the kernel's octal escapes undone). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export async function isMounted(dir: string): Promise<boolean> {
  return (await mountPoints()).includes(dir);
}

export async function mountOverlay(lower: string, upper: string, work: string, merged: string): Promise<void> {
  if (await isMounted(merged)) return;
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  // lowerdir/upperdir values are our own paths (validated names): no ',' or ':' that overlay would split on
  await runOk('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
}

export async function unmount(dir: string): Promise<boolean> {
  if (!(await isMounted(dir))) return false;
  await runOk('umount', [dir]);
  return true;
}
