// SSH keys: the controller's lab key pair (made once), and each host's own ed25519 host key, made
// before its first boot so the controller can trust it from the first connection.
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { runOk } from './exec.js';
import type { LabEmit } from './types.js';

export async function ensureLabKey(keyPath: string, emit: LabEmit): Promise<string> {
  const exists = await stat(keyPath).then(() => true, () => false);
  if (!exists) {
    await mkdir(path.dirname(keyPath), { recursive: true, mode: 0o700 });
    await rm(`${keyPath}.pub`, { force: true });
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-lab-controller', '-f', keyPath]);
    emit({ type: 'lab.key.created', path: keyPath });
  }
  await chmod(keyPath, 0o600); // ssh refuses a private key others can read
  const pub = await readFile(`${keyPath}.pub`, 'utf8').catch(async () => {
    // the .pub was lost: derive it again from the private key
    return runOk('ssh-keygen', ['-y', '-f', keyPath]);
  });
  return pub.trim();
}

/** Writes <etcSsh>/ssh_host_ed25519_key{,.pub}; returns the public line "ssh-ed25519 AAAA...". */
export async function generateHostKey(etcSsh: string, hostName: string): Promise<string> {
  const file = path.join(etcSsh, 'ssh_host_ed25519_key');
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${hostName}`, '-f', file]);
  return readHostKey(etcSsh);
}

/** "ssh-ed25519 AAAA..." of a host key, without the comment. */
export async function readHostKey(etcSsh: string): Promise<string> {
  const text = await readFile(path.join(etcSsh, 'ssh_host_ed25519_key.pub'), 'utf8');
  const [type, blob] = text.trim().split(/\s+/);
  if (type !== 'ssh-ed25519' || !blob) throw new Error(`unexpected host key in ${etcSsh}: ${text.slice(0, 80)}`);
  return `${type} ${blob}`;
}
