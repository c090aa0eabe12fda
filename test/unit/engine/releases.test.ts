// The host's release is a fact (from /etc/os-release, in the single probe exec); the inventory may
// pin it (spec.os) and a role declares the releases it supports. Probe output recorded with
// PROVISION_RECORD_PROBES on the hosts of test/fixtures/plan-releases/fleet (inventory/lab's layout,
// one host per site role) running the site roles, once on Debian 13 and once with spec.os debian-12
// (test/fixtures/plan-releases/<release>/: fresh = nothing applied, converged = after apply; last
// recorded with base's security updates and hardened baseline), and on the Debian 12 hosts of
// test/fixtures/e2e/in-effect (test/fixtures/plan-in-effect), recorded before the code name was probed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type CompiledHost } from '../../../src/plan/compile.js';
import { planFromProbe } from '../../../src/plan/planner.js';
import { parseFacts } from '../../../src/facts/probe.js';
import type { ProbeOutput } from '../../../src/plan/probe-script.js';
import { recordedBeforeRootCoreLimit } from './replay.js';

const repo = process.cwd();
const inv = path.join(repo, 'test/fixtures/plan-releases/fleet');
const read = (file: string): ProbeOutput => JSON.parse(fs.readFileSync(path.join(repo, file), 'utf8')) as ProbeOutput;
const recording = (release: string, state: string, host: string) => read(`test/fixtures/plan-releases/${release}/${state}/${host}.json`);
const trixie = (state: string, host: string) => recording('debian-13', state, host);
const bookwormFacts = () => read('test/fixtures/plan-in-effect/converged/node-1.json').facts;
const SITE_HOSTS = ['bastion-1', 'monitor-1', 'drand-1', 'relay-1'];
const hosts = new Map<string, CompiledHost>();

beforeAll(async () => {
  const compiled = await compile(loadInventory(inv), loadPlaybook(path.join(repo, 'playbooks/site.yaml')), { controllerAddresses: ['10.213.96.1'] });
  // recorded before root's own core-dump limit: planned over the resources the recording has
  for (const [name, h] of compiled.hosts) hosts.set(name, recordedBeforeRootCoreLimit(h));
});

/** the compiled host with another spec.os pin and/or other role release lists */
function variant(name: string, os: string | undefined, releases?: Record<string, string[]>): CompiledHost {
  const ch = hosts.get(name)!;
  return {
    ...ch,
    host: { ...ch.host, spec: { ...ch.host.spec, os: os as never } },
    roles: ch.roles.map((r) => (releases?.[r.role.name] ? { ...r, role: { ...r.role, releases: releases[r.role.name] as never } } : r)),
  };
}

describe('the release fact', () => {
  test('Debian 13 and Debian 12, as recorded', () => {
    const t = parseFacts(trixie('converged', 'drand-1').facts);
    expect(t.release).toBe('debian-13');
    expect(t.os).toEqual({ id: 'debian', versionId: '13', codename: 'trixie', prettyName: 'Debian GNU/Linux 13 (trixie)' });
    // recorded before the code name was probed: the release still comes from ID and VERSION_ID
    const b = parseFacts(bookwormFacts());
    expect(b.release).toBe('debian-12');
    expect(b.os.prettyName).toBe('Debian GNU/Linux 12 (bookworm)');
  });
});

describe.each([
  ['debian-13', 'trixie'],
  ['debian-12', 'bookworm'],
])('every site role on %s, from recorded probes', (release, codename) => {
  test.each(SITE_HOSTS)('%s: a fresh host has changes, the converged one none, no error', (name) => {
    const ch = variant(name, release);
    const fresh = planFromProbe(ch, recording(release, 'fresh', name), 1).plan;
    expect(fresh.facts).toMatchObject({ release, os: { codename } });
    expect(fresh.error).toBeUndefined();
    expect(fresh.changes.length).toBeGreaterThan(10);
    // a fresh image has package lists no known refresh made: apply refreshes them, then installs
    expect(fresh.changes.find((c) => c.id === 'security-updates:Debian-Security')?.summary).toMatch(/^refresh the package lists \(no refresh known; /);
    const conv = planFromProbe(ch, recording(release, 'converged', name), 1).plan;
    expect(conv.error).toBeUndefined();
    expect(conv.changes).toEqual([]);
  });
});

describe('spec.os pin and the roles\' releases fail the plan, naming what was found', () => {
  test('a host pinned to debian-12 that runs Debian 13', () => {
    const p = planFromProbe(variant('drand-1', 'debian-12'), trixie('converged', 'drand-1'), 1).plan;
    expect(p.error).toBe('the inventory pins spec.os debian-12, but the host runs debian-13 (Debian GNU/Linux 13 (trixie))');
  });

  test('a host pinned to debian-13 that runs Debian 12', () => {
    const out = { ...trixie('converged', 'drand-1'), facts: bookwormFacts() };
    const p = planFromProbe(variant('drand-1', 'debian-13'), out, 1).plan;
    expect(p.error).toContain('the inventory pins spec.os debian-13, but the host runs debian-12 (Debian GNU/Linux 12 (bookworm))');
  });

  test('no pin: either release plans', () => {
    expect(planFromProbe(variant('drand-1', undefined), trixie('converged', 'drand-1'), 1).plan.error).toBeUndefined();
  });

  test('a role that does not support the host\'s release names both', () => {
    const p = planFromProbe(variant('drand-1', undefined, { 'drand-node': ['debian-12'] }), trixie('converged', 'drand-1'), 1).plan;
    expect(p.error).toBe('role drand-node supports debian-12; the host runs debian-13 (Debian GNU/Linux 13 (trixie))');
  });

  test('a release provision does not know fails every role', () => {
    const facts = trixie('converged', 'drand-1').facts.replace('os debian|13|Debian GNU/Linux 13 (trixie)', 'os debian|11|Debian GNU/Linux 11 (bullseye)');
    const p = planFromProbe(variant('drand-1', undefined), { ...trixie('converged', 'drand-1'), facts }, 1).plan;
    expect(p.error).toBe(
      'role base supports debian-12, debian-13; the host runs debian-11 (Debian GNU/Linux 11 (bullseye)); ' +
        'role drand-node supports debian-12, debian-13; the host runs debian-11 (Debian GNU/Linux 11 (bullseye))',
    );
  });
});
