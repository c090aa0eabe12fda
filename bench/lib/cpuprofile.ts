// Reads a V8 .cpuprofile (node --cpu-prof) and says where the controller's CPU went: self time by
// area (our engine, ssh2, handlebars, ajv, node internals, GC, idle), the hottest functions by self
// time, and our own functions by inclusive time.
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle (waiting for the network / the hosts)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native (program)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `npm: ${m[1]}`;
  if (/\/dist\/src\//.test(url)) return `provision: src/${/\/dist\/src\/([^/]+)/.exec(url)?.[1] ?? ''}`;
  if (/\/dist\/roles\//.test(url)) return 'provision: roles';
  if (url.startsWith('node:') || url === '') return 'node internals';
  return 'other';
}

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^node:/, 'node:');

export function analyseProfile(file: string) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const ms = (us: number) => Math.round(us / 100) / 10;

  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }

  // Inclusive time of our own functions (each function counted once per stack).
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!/\/dist\/(src|roles)\//.test(f.url)) continue;
      const key = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + us);
    }
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => ({ name, ms: ms(us) }));
  return {
    sampledMs: ms(totalUs),
    profileSpanMs: ms(p.endTime - p.startTime),
    byArea: top(areas, 20),
    topSelf: top(fns, 25),
    ourInclusive: top(incl, 25),
  };
}
