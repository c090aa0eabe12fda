// A lab inventory keeps its secrets encrypted like any other, for a lab identity that `lab up`
// makes on this machine and that never enters git. A fresh machine has a new identity and cannot
// open files encrypted on another one, so `lab up` (re)generates them: random values for the vars
// listed in secrets/lab-secrets.yaml, encrypted to the lab identity. Those files and the
// recipients file are gitignored; only the list of what to generate is committed.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse as parseYamlText, stringify } from 'yaml';
import { ageDecrypt, ageEncrypt, ageKeygen, AgeError } from '../secrets/age.js';
import { LAB_IDENTITY, recipientsFile, scopeFile, secretsDir } from '../secrets/store.js';
import type { LabEmit } from './types.js';

export const LAB_SECRETS_SPEC = 'lab-secrets.yaml';

/** Make the lab identity (0600, outside the repository) once; returns its recipient. */
export function ensureLabIdentity(emit: LabEmit, file = LAB_IDENTITY): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { identity } = ageKeygen();
    try {
      fs.writeFileSync(file, identity, { mode: 0o600, flag: 'wx' });
      emit({ type: 'lab.identity.created', path: file });
    } catch (e) {
      // another `lab up` made it at the same moment: use theirs
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  fs.chmodSync(file, 0o600);
  const recipient = /# public key: (age1\S+)/.exec(fs.readFileSync(file, 'utf8'))?.[1];
  if (!recipient) throw new Error(`${file}: not an age identity made by age-keygen (no "# public key:" line)`);
  return recipient;
}

/** For a lab inventory with secrets/lab-secrets.yaml: every listed scope opens with the lab identity. */
export function ensureLabSecrets(invDir: string, emit: LabEmit, identity = LAB_IDENTITY): void {
  const spec = path.join(secretsDir(invDir), LAB_SECRETS_SPEC);
  if (!fs.existsSync(spec)) return;
  const recipient = ensureLabIdentity(emit, identity);
  const recipients = recipientsFile(invDir);
  const wanted = `# the lab identity of this machine (${identity}); written by \`provision lab up\`\n${recipient}\n`;
  if (!fs.existsSync(recipients) || fs.readFileSync(recipients, 'utf8') !== wanted) fs.writeFileSync(recipients, wanted);
  for (const [scope, data] of Object.entries(labSecretValues(spec))) {
    const file = scopeFile(invDir, scope);
    if (fs.existsSync(file) && opens(file, identity)) continue;
    fs.writeFileSync(file, ageEncrypt(Buffer.from(stringify(data)), recipients));
    emit({ type: 'lab.secrets.generated', file, vars: Object.entries(data).flatMap(([role, vars]) => Object.keys(vars).map((v) => `${role}.${v}`)) });
  }
}

/** The scopes secrets/lab-secrets.yaml lists whose file is not there yet (`lab up` has not made them on this machine). */
export function missingLabSecrets(invDir: string): string[] {
  const spec = path.join(secretsDir(invDir), LAB_SECRETS_SPEC);
  if (!fs.existsSync(spec)) return [];
  return Object.keys(parseYamlText(fs.readFileSync(spec, 'utf8')) ?? {}).filter((scope) => !fs.existsSync(scopeFile(invDir, scope)));
}

/**
 * The values secrets/lab-secrets.yaml asks for, scope → role → var → value: random unless `value`
 * gives one (the unit tests compile a lab inventory with fixed values this way).
 * A var is listed by name (a random value), or as `{ var: other-role.var }`: the same value as that
 * var of the same scope (two roles that must agree on one secret, e.g. snapshot and snapshot-server).
 */
export function labSecretValues(spec: string, value = (): string => randomBytes(18).toString('base64url')): Record<string, Record<string, Record<string, string>>> {
  const scopes = (parseYamlText(fs.readFileSync(spec, 'utf8')) ?? {}) as Record<string, Record<string, (string | Record<string, string>)[]>>;
  const out: Record<string, Record<string, Record<string, string>>> = {};
  for (const [scope, roles] of Object.entries(scopes)) {
    const data: Record<string, Record<string, string>> = {};
    const same: [string, string, string][] = [];
    for (const [role, vars] of Object.entries(roles)) {
      data[role] = {};
      for (const v of vars) {
        if (typeof v === 'string') data[role]![v] = value();
        else for (const [name, from] of Object.entries(v)) same.push([role, name, from]);
      }
    }
    for (const [role, name, from] of same) {
      const [r, ...rest] = from.split('.');
      const v = data[r!]?.[rest.join('.')];
      if (v === undefined) throw new Error(`${spec}: ${scope}.${role}.${name} is the same as "${from}", which this scope does not generate`);
      data[role]![name] = v;
    }
    out[scope] = data;
  }
  return out;
}

function opens(file: string, identity: string): boolean {
  try {
    ageDecrypt(fs.readFileSync(file), identity);
    return true;
  } catch (e) {
    if (e instanceof AgeError) return false;
    throw e;
  }
}
