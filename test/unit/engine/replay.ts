// Answer a script the engine sends as a host would, from probe output recorded on a lab host
// (test/fixtures/plan): section by section, in the script's own order and with its own markers.
// Apply steps succeed; probe sections (facts, resources, health, published values and role facts) come from the recording.
import fs from 'node:fs';
import path from 'node:path';
import type { ProbeOutput } from '../../../src/plan/probe-script.js';
import type { Connector } from '../../../src/apply/run.js';

/** `state`: a directory under test/fixtures/plan (e.g. "drifted", "handlers/edited"); `host`: its recording */
export const recorded = (state: string, host = 'app-1'): ProbeOutput =>
  JSON.parse(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/plan', state, `${host}.json`), 'utf8')) as ProbeOutput;

export function answer(script: string, probe: ProbeOutput): string {
  const opening = /^printf '%s\\n' '(@@[0-9a-f]{16}@@)(facts|records|[srhx] \d+)'$/gm;
  let out = '';
  for (const [, mark, name] of script.matchAll(opening)) {
    const [kind, index] = name!.split(' ');
    const [body, status] =
      kind === 'facts' ? [probe.facts, 0]
      : kind === 'records' ? [probe.records ?? '', 0]
      : kind === 'r' ? [probe.resources[Number(index)]!.stdout, probe.resources[Number(index)]!.status]
      : kind === 'h' ? ['', probe.health[Number(index)]!]
      : kind === 'x' ? [probe.extras![Number(index)]!.stdout, probe.extras![Number(index)]!.status]
      : ['', 0];
    out += `${mark}${name}\n${body}\n${mark}end ${status}\n`;
  }
  return out;
}

type PerHost = ProbeOutput | ((host: string) => ProbeOutput);

/** A connector whose hosts start in `first` and look like `after` once anything was applied. */
export function replaying(first: PerHost, after: PerHost) {
  const scripts = new Map<string, string[]>();
  const of = (p: PerHost, host: string) => (typeof p === 'function' ? p(host) : p);
  const connector: Connector = {
    async connect(host) {
      const sent = scripts.get(host) ?? [];
      scripts.set(host, sent);
      return {
        get execCount() {
          return sent.length;
        },
        async run(script: string) {
          sent.push(script);
          return { stdout: answer(script, sent.length === 1 ? of(first, host) : of(after, host)), stderr: '', code: 0 };
        },
      };
    },
    testFreshLogin: async () => {},
  };
  return { connector, scripts };
}

