#!/usr/bin/env node
// What provision's own records cost (bench/RESULTS.md, "Locks and records"): the bytes the lock,
// renewer, record and release add to a host's last apply exec and the records section adds to the
// probe, and the host time each takes, measured on a lab host (N runs, median, host clock).
//   node dist/bench/records-cost.js ADDRESS KNOWN_HOSTS [RUNS]
import { spawnSync } from 'node:child_process';
import { recordsProbe } from '../src/plan/host-records.js';
import { applyExecScript, recordScript, releaseLockScript, renewerScript, stepsScript, takeLockScript } from '../src/apply/scripts.js';
import { median } from './lib/stats.js';

const [address, knownHosts, runsArg] = process.argv.slice(2);
if (!address || !knownHosts) throw new Error('usage: records-cost ADDRESS KNOWN_HOSTS [RUNS]');
const runs = Number(runsArg ?? 30);
const id = { runId: `${Date.now()}-bench`, owner: 'bench@controller' };
const record = { runId: id.runId, at: new Date().toISOString(), by: id.owner, commit: '0'.repeat(40), playbook: '/srv/provision/playbooks/site.yaml', roles: ['base', 'drand-node'], fingerprint: 'f'.repeat(64), result: 'applied', changes: 1 };

const probe = `{\n${recordsProbe()}\n} >/dev/null 2>&1\n`;
const lockSteps = [
  { label: 'lock', script: `${takeLockScript(id, 0)}\n${renewerScript(id)}` },
  { label: 'record the run', script: recordScript(record) },
  { label: 'release lock', script: releaseLockScript(id) },
];
// The same exec body with and without the lock/record steps (the wrapper that keeps output on the host included).
const withRecords = applyExecScript(id.runId, 1, stepsScript(lockSteps).script);
const bare = stepsScript([]).script;

/** Median host-side milliseconds of `script`, run `runs` times in one ssh session (generation reset between runs). */
function hostMs(script: string): number {
  const loop = `for i in $(seq ${runs}); do echo 0 > /var/lib/provision/generation; s=$(date +%s%N); sh -s >/dev/null 2>&1 <<'__BENCH__'\n${script}\n__BENCH__\ne=$(date +%s%N); echo $(( (e - s) / 1000 )); done`;
  const r = spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-i', '/var/lib/provision/lab/id_ed25519', `root@${address}`, 'sh -s'], { input: loop, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return median(r.stdout.trim().split('\n').map((us) => Number(us) / 1000));
}

const out = {
  runs,
  probeSectionBytes: Buffer.byteLength(probe),
  probeSectionHostMs: hostMs(probe),
  lockRecordBytes: Buffer.byteLength(withRecords) - Buffer.byteLength(bare),
  lockRecordHostMs: hostMs(withRecords),
  emptyExecHostMs: hostMs(bare),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
