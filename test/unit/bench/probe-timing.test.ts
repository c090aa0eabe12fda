// The on-host timing harness of the benchmarks, run here with bash as it runs on a lab host.
import { spawnSync } from 'node:child_process';
import { describe, test, expect } from '@jest/globals';
import { parseTimings, timingScript } from '../../../bench/lib/probe-timing.js';

describe('bench probe timing', () => {
  test('each script runs the given number of times; a busy script costs more wall and CPU than an empty one', () => {
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    const scripts = [`echo x >> ${dir}/empty`, `echo x >> ${dir}/busy; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; /bin/true`];
    const r = spawnSync('bash', ['-s'], { input: timingScript(scripts, 4, 2), encoding: 'utf8' });
    expect(r.status).toBe(0);
    // "index wall_us cpu_ms": one line per script and round
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['0', '1', '0', '1']);
    expect(spawnSync('sh', ['-c', `wc -l < ${dir}/empty; wc -l < ${dir}/busy; rm -rf ${dir}`], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean)).toEqual(['4', '4']);
    const [empty, busy] = parseTimings(['empty', 'busy'], r.stdout, 4);
    expect(empty!.name).toBe('empty');
    expect(busy!.wallMs).toBeGreaterThan(empty!.wallMs);
    expect(busy!.cpuMs).toBeGreaterThan(0);
    expect(() => parseTimings(['one'], '7 10 1\n', 1)).toThrow(/unexpected timing line: 7 10 1/);
    expect(() => timingScript(scripts, 3, 2)).toThrow(/3 runs do not split into 2 rounds/);
  });
});
