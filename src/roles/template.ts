// Handlebars in strict mode: a variable the template uses but the data lacks is an error that names
// the template file and line — never an empty string in a config file.
import fs from 'node:fs';
import Handlebars from 'handlebars';
import { InputError } from '../input/errors.js';
import { templatePath } from './registry.js';
import type { RoleDefinition } from './types.js';
import { revealAll } from '../secrets/value.js';

// An isolated environment: roles cannot register global helpers that leak into each other.
const hb = Handlebars.create();
hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);

const compiled = new Map<string, HandlebarsTemplateDelegate>();

export function renderTemplate(role: RoleDefinition, name: string, data: object): string {
  const file = templatePath(role, name);
  let tpl = compiled.get(file);
  if (!tpl) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      throw new InputError([{ file, at: '', expected: `template ${name}.hbs of role ${role.name}`, found: 'no such file' }]);
    }
    // noEscape: these are config files, not HTML.
    tpl = hb.compile(source, { strict: true, noEscape: true });
    compiled.set(file, tpl);
  }
  try {
    // Secret vars render as their plaintext; the output then carries it, so the resource that takes
    // it is sensitive by construction (src/resources/common.ts).
    return tpl(revealAll(data));
  } catch (e) {
    const msg = (e as Error).message;
    // Handlebars strict mode: '"name" not defined in [object Object] - 3:4'
    const m = /"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(msg);
    if (m) throw new InputError([{ file, at: m[1]!, expected: `a value for "${m[1]}" in the template data`, found: 'nothing', line: Number(m[2]) }]);
    const pos = /line (\d+)/.exec(msg);
    throw new InputError([{ file, at: '', expected: 'a valid Handlebars template', found: msg.split('\n')[0] ?? msg, line: pos ? Number(pos[1]) : undefined }]);
  }
}
