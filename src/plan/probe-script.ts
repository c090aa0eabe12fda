// ONE script per host gathers facts, probes every resource and tries each health check once:
// a run that changes nothing costs one exec per host. Sections are framed by markers that carry a
// random nonce, so no probed content (files are base64 anyway) can fake a boundary.
import { randomBytes } from 'node:crypto';
import type { Resource } from '../resources/types.js';
import type { HealthCheck } from '../roles/types.js';
import { factsProbe } from '../facts/probe.js';
import { recordsProbe } from './host-records.js';
import type { ExtraProbe } from './values.js';

export interface ProbeOutput {
  facts: string;
  /** provision's own records on the host (pending handlers, lock, armed restores, last run) */
  records?: string;
  resources: { stdout: string; status: number }[];
  /** exit status of each health check (0 = healthy) */
  health: number[];
  /** published values and role facts (CompiledHost.extras), in order */
  extras?: { stdout: string; status: number }[];
}

export interface ProbeScript {
  script: string;
  parse(stdout: string): ProbeOutput;
}

export function buildProbeScript(opts: { resources: Resource[]; health: HealthCheck[]; diskPaths: string[]; withFacts: boolean; healthRetries?: boolean; extras?: ExtraProbe[] }): ProbeScript {
  const mark = `@@${randomBytes(8).toString('hex')}@@`;
  const parts: string[] = [];
  // A section is a { } group, not a ( ) subshell: one fork less per resource. Probes are read-only
  // snippets that never `exit` (resource probes that run user sh, like command's test and the health
  // checks, give it a subshell of its own), and each sets every variable it reads.
  const section = (name: string, body: string) =>
    parts.push(`printf '%s\\n' '${mark}${name}'\n{\n${body}\n} 2>/dev/null </dev/null\nprintf '\\n${mark}end %s\\n' "$?"`);
  if (opts.withFacts) section('facts', factsProbe(opts.diskPaths));
  // The planning probe also reads provision's own records: what an interrupted run left pending.
  if (opts.withFacts) section('records', recordsProbe());
  opts.resources.forEach((r, i) => section(`r ${i}`, r.probe()));
  // Published values and role facts: role-written sh, each in a subshell of its own (an `exit` ends only it).
  opts.extras?.forEach((x, i) => section(`x ${i}`, `(\n${x.probe}\n)`));
  opts.health.forEach((h, i) => {
    const check = `( ${h.script}\n ) >/dev/null 2>&1`;
    if (!opts.healthRetries) return section(`h ${i}`, check);
    // After an apply, services may need a moment: retry every 0.2 s until the check's timeout.
    const deadline = Math.max(1, h.timeoutSeconds ?? 30);
    section(
      `h ${i}`,
      `end=$(($(date +%s) + ${deadline})); ok=1\nwhile :; do if ${check}; then ok=0; break; fi; [ "$(date +%s)" -ge "$end" ] && break; sleep 0.2; done\n[ "$ok" = 0 ]`,
    );
  });
  return {
    script: parts.join('\n') + '\n',
    parse(stdout: string): ProbeOutput {
      const out: ProbeOutput = { facts: '', resources: opts.resources.map(() => ({ stdout: '', status: -1 })), health: opts.health.map(() => -1) };
      if (opts.extras?.length) out.extras = opts.extras.map(() => ({ stdout: '', status: -1 }));
      const lines = stdout.split('\n');
      let current: string | undefined;
      let buf: string[] = [];
      for (const line of lines) {
        if (!line.startsWith(mark)) {
          if (current !== undefined) buf.push(line);
          continue;
        }
        const tag = line.slice(mark.length);
        if (tag.startsWith('end ')) {
          if (current === undefined) continue;
          const status = Number(tag.slice(4));
          // The framing printf added one newline before the end marker.
          const text = buf.join('\n').replace(/\n$/, '');
          if (current === 'facts') out.facts = text;
          else if (current === 'records') out.records = text;
          else if (current.startsWith('r ')) out.resources[Number(current.slice(2))] = { stdout: text, status };
          else if (current.startsWith('h ')) out.health[Number(current.slice(2))] = status;
          else if (current.startsWith('x ') && out.extras) out.extras[Number(current.slice(2))] = { stdout: text, status };
          current = undefined;
          buf = [];
        } else {
          current = tag;
          buf = [];
        }
      }
      const missing = out.resources.findIndex((r) => r.status === -1);
      if (missing >= 0) throw new Error(`probe output ended early (no result for ${opts.resources[missing]!.id}): the probe script was cut off`);
      return out;
    },
  };
}
