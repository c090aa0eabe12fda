// Timing scripts ON a lab host, where the probe runs: each script is written to a file on the host
// and run `runs` times with `sh -s` (its output discarded), in `rounds` interleaved rounds so a slow
// phase of the machine does not land on one script only. Wall from `date +%s%N`; host CPU is the
// user + sys of the finished runs, read from the timing shell's own /proc/$$/stat (children's time).
// Used by bench/in-effect.ts and bench/site.ts.
import { sh } from '../../src/shell/quote.js';

export interface ScriptTiming {
  name: string;
  /** per run */
  wallMs: number;
  cpuMs: number;
}

/** The bash script to run on the host (one exec): prints "index wall_us cpu_ms" per script and round. */
export function timingScript(scripts: readonly string[], runs: number, rounds = 1): string {
  if (runs % rounds !== 0) throw new Error(`timingScript: ${runs} runs do not split into ${rounds} rounds`);
  const lines = ['set -e', 'd=$(mktemp -d)', 'clk=$(getconf CLK_TCK)', 'cpu() { read -r _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ cu cs _ </proc/$$/stat; echo $((cu + cs)); }'];
  scripts.forEach((script, i) => lines.push(`printf '%s' ${sh(Buffer.from(script).toString('base64'))} | base64 -d >"$d/${i}"`));
  lines.push(
    `for round in $(seq ${rounds}); do for i in $(seq 0 ${scripts.length - 1}); do`,
    `  c0=$(cpu); t0=$(date +%s%N)`,
    `  for k in $(seq ${runs / rounds}); do sh -s <"$d/$i" >/dev/null 2>&1 || true; done`,
    `  t1=$(date +%s%N); c1=$(cpu); echo "$i $(( (t1 - t0) / 1000 )) $(( (c1 - c0) * 1000 / clk ))"`,
    'done; done',
    'rm -rf "$d"',
  );
  return lines.join('\n') + '\n';
}

/** timingScript's output, summed over the rounds: per script (in the given order), wall and CPU per run. */
export function parseTimings(names: readonly string[], stdout: string, runs: number): ScriptTiming[] {
  const sum = names.map((name) => ({ name, wallMs: 0, cpuMs: 0 }));
  for (const line of stdout.trim().split('\n')) {
    const [i, us, cpuMs] = line.split(' ').map(Number);
    const s = sum[i!];
    if (!s || !Number.isFinite(us) || !Number.isFinite(cpuMs)) throw new Error(`unexpected timing line: ${line}`);
    s.wallMs += us! / 1000;
    s.cpuMs += cpuMs!;
  }
  return sum.map((s) => ({ ...s, wallMs: s.wallMs / runs, cpuMs: s.cpuMs / runs }));
}
