// ajv validation whose errors come out as InputProblems (file, path, expected, found).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { describeValue, type InputProblem } from './errors.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const cache = new WeakMap<object, ValidateFunction>();

export function compiled(schema: TSchema): ValidateFunction {
  const known = cache.get(schema);
  if (known) return known;
  const v = ajv.compile(schema);
  cache.set(schema, v);
  return v;
}

/**
 * Validate `data` (mutated: defaults filled in) and describe every error.
 * `prefix` is the path of `data` inside the file; `lineOf` maps a path to a line.
 */
export function checkSchema(
  schema: TSchema,
  data: unknown,
  file: string,
  prefix: (string | number)[],
  lineOf?: (at: (string | number)[]) => number | undefined,
): InputProblem[] {
  const validate = compiled(schema);
  if (validate(data)) return [];
  return dedupe(validate.errors ?? []).map((e) => toProblem(e, data, file, prefix, lineOf));
}

function dedupe(errors: ErrorObject[]): ErrorObject[] {
  // anyOf/oneOf produce one error per branch plus a summary; keep the summary when present.
  const summarised = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (summarised.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf') return false;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toProblem(
  e: ErrorObject,
  root: unknown,
  file: string,
  prefix: (string | number)[],
  lineOf?: (at: (string | number)[]) => number | undefined,
): InputProblem {
  const inner = e.instancePath.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const keys = [...prefix, ...inner.map((k) => (/^\d+$/.test(k) ? Number(k) : k))];
  const found = valueAt(root, inner);
  let expected: string;
  let at = keys.join('.');
  let foundText = describeValue(found);
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      at = [...keys, extra].join('.');
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      expected = allowed.length ? `one of the keys ${allowed.join(', ')}` : 'no keys here';
      foundText = `unknown key "${extra}"`;
      return { file, at, expected, found: foundText, line: lineOf?.([...keys, extra]) };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      at = [...keys, missing].join('.');
      return { file, at, expected: `a value for required key "${missing}"`, found: 'nothing', line: lineOf?.(keys) };
    }
    case 'type':
      expected = `a value of type ${(e.params as { type: string }).type}`;
      break;
    case 'enum':
      expected = `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'anyOf': {
      // a union of literals (spec.os, sizing): one line naming the values, not ajv's "must match a schema in anyOf"
      const consts = ((e.parentSchema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf ?? []).map((b) => b.const);
      expected = consts.length && consts.every((c) => c !== undefined) ? `one of ${consts.map((c) => JSON.stringify(c)).join(', ')}` : `a value that ${e.message ?? 'is valid'}`;
      break;
    }
    case 'const':
      expected = JSON.stringify((e.params as { allowedValue: unknown }).allowedValue);
      break;
    case 'pattern':
      expected = `a string matching ${(e.params as { pattern: string }).pattern}`;
      break;
    case 'format':
      expected = `a ${(e.params as { format: string }).format}`;
      break;
    default:
      expected = `a value that ${e.message ?? 'is valid'}`;
  }
  const desc = (e.parentSchema as { description?: string } | undefined)?.description;
  if (desc && e.keyword !== 'additionalProperties') expected += ` (${desc})`;
  return { file, at, expected, found: foundText, line: lineOf?.(keys) };
}

function valueAt(root: unknown, keys: string[]): unknown {
  let v: unknown = root;
  for (const k of keys) {
    if (v && typeof v === 'object') v = (v as Record<string, unknown>)[k];
    else return undefined;
  }
  return v;
}
