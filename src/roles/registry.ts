// Roles are found as in Ansible: first in a `roles/` directory beside the playbook, then in the
// directories of PROVISION_ROLES_PATH (colon-separated, like ANSIBLE_ROLES_PATH), then in the
// repository's `roles/`. A role is <dir>/<name>/role.ts (compiled by tsc into dist/ at the same
// relative path) with its templates in <dir>/<name>/templates/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RoleDefinition } from './types.js';

/** The repository root: this file is dist/src/roles/registry.js once compiled. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface RoleSource {
  name: string;
  /** the role's source directory (role.ts, templates/) */
  dir: string;
}

export function roleDirs(playbookFile?: string): string[] {
  const dirs = playbookFile ? [path.join(path.dirname(playbookFile), 'roles')] : [];
  for (const d of (process.env.PROVISION_ROLES_PATH ?? '').split(':').filter(Boolean)) dirs.push(path.resolve(d));
  dirs.push(path.join(repoRoot, 'roles'));
  return [...new Set(dirs)].filter((d) => fs.existsSync(d));
}

/** Every role that can be used with this playbook, by name (the first directory wins). */
export function availableRoles(playbookFile?: string): Map<string, RoleSource> {
  const out = new Map<string, RoleSource>();
  for (const d of roleDirs(playbookFile)) {
    for (const n of fs.readdirSync(d).sort()) {
      if (!out.has(n) && fs.existsSync(path.join(d, n, 'role.ts'))) out.set(n, { name: n, dir: path.join(d, n) });
    }
  }
  return out;
}

const loaded = new Map<string, RoleDefinition>();
const sourceOf = new WeakMap<RoleDefinition, RoleSource>();

export async function loadRole(src: RoleSource): Promise<RoleDefinition> {
  const known = loaded.get(src.dir);
  if (known) return known;
  const rel = path.relative(repoRoot, src.dir);
  if (rel.startsWith('..')) throw new Error(`role ${src.name} at ${src.dir} is outside the repository; roles are compiled with it`);
  const compiled = path.join(repoRoot, 'dist', rel, 'role.js');
  if (!fs.existsSync(compiled)) throw new Error(`role ${src.name}: ${path.relative(repoRoot, compiled)} is missing — run \`npm run build\``);
  const mod = (await import(pathToFileURL(compiled).href)) as { default?: RoleDefinition };
  const def = mod.default;
  if (!def || typeof def.resources !== 'function' || def.name !== src.name) {
    throw new Error(`${path.join(rel, 'role.ts')} must \`export default defineRole({ name: '${src.name}', ... })\``);
  }
  loaded.set(src.dir, def);
  sourceOf.set(def, src);
  return def;
}

export function templatePath(role: RoleDefinition | RoleSource, name: string): string {
  const dir = 'dir' in role ? role.dir : (sourceOf.get(role)?.dir ?? path.join(repoRoot, 'roles', role.name));
  return path.join(dir, 'templates', `${name}.hbs`);
}
