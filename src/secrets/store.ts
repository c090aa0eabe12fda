// An inventory's secrets: inventory/<env>/secrets/recipients (who can decrypt: one age recipient
// per line, # comments) and inventory/<env>/secrets/<scope>.age, where <scope> is a group or a host
// and the decrypted text is YAML shaped like its group_vars/host_vars file (role → vars). The
// decrypted text is parsed in memory and never written anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { parseYaml } from '../input/yaml-file.js';
import { InputError, type InputProblem } from '../input/errors.js';
import { isPlainObject } from '../inventory/merge.js';
import { ageDecrypt, AgeError } from './age.js';
import { registerSecret } from './value.js';

export const IDENTITY_ENV = 'PROVISION_AGE_IDENTITY';
/** The lab's identity: made by `lab up`, kept out of git. */
export const LAB_IDENTITY = '/var/lib/provision/lab/age-identity.txt';

export const secretsDir = (invDir: string): string => path.join(invDir, 'secrets');
export const recipientsFile = (invDir: string): string => path.join(secretsDir(invDir), 'recipients');
export const scopeFile = (invDir: string, scope: string): string => path.join(secretsDir(invDir), `${scope}.age`);

/** Scopes that have an encrypted file, sorted. */
export function secretScopes(invDir: string): string[] {
  const dir = secretsDir(invDir);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.age')).map((f) => f.slice(0, -4)).sort();
}

/** --identity FILE, else $PROVISION_AGE_IDENTITY, else (a lab inventory) the lab identity. */
export function identityFile(given: string | undefined, isLab: boolean): string | undefined {
  const id = given ?? process.env[IDENTITY_ENV];
  if (id) return path.resolve(id);
  return isLab && fs.existsSync(LAB_IDENTITY) ? LAB_IDENTITY : undefined;
}

export interface DecryptedScope {
  scope: string;
  file: string;
  data: Record<string, unknown>;
  lineOf(at: (string | number)[]): number | undefined;
}

/** Decrypt one scope's file; every failure is an InputError naming the file. */
export function decryptScope(file: string, identity: string | undefined, isLab = false): DecryptedScope {
  const scope = path.basename(file).replace(/\.age$/, '');
  const problem = (expected: string, found: string): InputError => new InputError([{ file, at: '', expected, found }]);
  if (!identity) {
    throw problem(
      `an age identity that can decrypt it: --identity FILE or ${IDENTITY_ENV}=FILE${isLab ? ' (a lab inventory: `provision lab up` makes the lab identity)' : ''}`,
      'no identity given',
    );
  }
  if (!fs.existsSync(identity)) throw problem(`a readable age identity file (--identity or ${IDENTITY_ENV})`, `no file ${identity}`);
  let plaintext: Buffer;
  try {
    plaintext = ageDecrypt(fs.readFileSync(file), identity);
  } catch (e) {
    if (!(e instanceof AgeError)) throw e;
    throw problem(...explainAgeError(e.message, identity));
  }
  const text = plaintext.toString('utf8');
  const yaml = parseYaml(text, `${file} (decrypted)`, 'secrets: role → vars, as in a vars file');
  if (!isPlainObject(yaml.data)) throw problem('a map of role name → secret vars (decrypted)', 'something else');
  registerLeaves(yaml.data);
  return { scope, file, data: yaml.data, lineOf: (at) => yaml.lineOf(at) };
}

function explainAgeError(msg: string, identity: string): [string, string] {
  if (/no identity matched/.test(msg)) {
    return [
      'a file encrypted to one of your identities (someone who can open it adds your recipient to secrets/recipients and runs `provision secrets encrypt`)',
      `none of the identities in ${identity} can open it`,
    ];
  }
  if (/reading ".*"|identity|failed to read "/.test(msg) && !/header|payload/.test(msg)) return ['a valid age identity file', `age: ${msg}`];
  return ['an intact age file as `provision secrets` writes it', `damaged or tampered ciphertext (age: ${msg})`];
}

/** Every string in a decrypted file is a plaintext to keep out of output, whatever the schemas say. */
function registerLeaves(v: unknown): void {
  if (typeof v === 'string') registerSecret(v);
  else if (Array.isArray(v)) v.forEach(registerLeaves);
  else if (isPlainObject(v)) Object.values(v).forEach(registerLeaves);
}

/** Read the recipients file: one recipient per line, blank lines and # comments allowed. */
export function readRecipients(invDir: string): string[] {
  const file = recipientsFile(invDir);
  if (!fs.existsSync(file)) {
    throw new InputError([{ file, at: '', expected: 'the age recipients of this inventory, one per line (each operator, a CI key)', found: 'no such file' }]);
  }
  const list = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const problems: InputProblem[] = [];
  if (list.length === 0) problems.push({ file, at: '', expected: 'at least one age recipient', found: 'none' });
  if (problems.length) throw new InputError(problems);
  return list;
}
