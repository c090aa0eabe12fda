// The host's release is a fact (from /etc/os-release, in the single probe exec); the inventory may
// pin it (spec.os) and a role declares the releases it supports. Probe output recorded with
// PROVISION_RECORD_PROBES on the hosts of test/fixtures/plan-releases/fleet running the site roles,
// once with spec.os debian-13 and once with debian-12 (test/fixtures/plan-releases/<release>/: fresh =
// nothing applied, converged = after apply), and on the Debian 12 hosts of
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
import type { Inventory } from '../../../src/inventory/types.js';
import type { PamStackState } from '../../../src/resources/index.js';
import { InputError } from '../../../src/input/errors.js';
import { DEFAULT_RELEASE, SUPPORTED_RELEASES } from '../../../src/facts/release.js';

const repo = process.cwd();
const inv = path.join(repo, 'test/fixtures/plan-releases/fleet');
const read = (file: string): ProbeOutput => JSON.parse(fs.readFileSync(path.join(repo, file), 'utf8')) as ProbeOutput;
const recording = (release: string, state: string, host: string) => read(`test/fixtures/plan-releases/${release}/${state}/${host}.json`);
const trixie = (state: string, host: string) => recording('debian-13', state, host);
const bookwormFacts = () => read('test/fixtures/plan-in-effect/converged/node-1.json').facts;
const SITE_HOSTS = ['bastion-1', 'monitor-1', 'drand-1', 'relay-1'];
// the site roles as recorded (the snapshot roles came later: see the fixture's comment)
const site = path.join(repo, 'test/fixtures/plan-releases/site.yaml');
/** the site compiled for each release (the fixture inventory pinned to it): roles see ctx.release */
const compiledFor = new Map<string, Map<string, CompiledHost>>();
/** the fixture inventory with every host's spec.os set to `os` (undefined: no pin) */
const pinned = (os: string | undefined): Inventory => {
  const i = loadInventory(inv);
  for (const h of i.hosts.values()) h.spec = { ...h.spec, os: os as never };
  return i;
};

beforeAll(async () => {
  for (const release of SUPPORTED_RELEASES) compiledFor.set(release, (await compile(pinned(release), loadPlaybook(site), { controllerAddresses: ['10.213.96.1'] })).hosts);
});

/** the host compiled for `release`, with other role release lists if given */
function variant(name: string, release: string, releases?: Record<string, string[]>): CompiledHost {
  const ch = compiledFor.get(release)!.get(name)!;
  return { ...ch, roles: ch.roles.map((r) => (releases?.[r.role.name] ? { ...r, role: { ...r.role, releases: releases[r.role.name] as never } } : r)) };
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
    const conv = planFromProbe(ch, recording(release, 'converged', name), 1).plan;
    expect(conv.error).toBeUndefined();
    expect(conv.changes).toEqual([]);
  });
});

describe.each(SUPPORTED_RELEASES)('the bastion\'s PAM stacks in effect on %s, from recorded probes', (release) => {
  test('Debian\'s stock stacks and the roles\' lines are all accepted; the files read follow the includes in effect', () => {
    const ch = variant('bastion-1', release);
    const i = ch.resources.findIndex((r) => r.id === 'pam-stack:sshd');
    const files = (state: string) => {
      const p = planFromProbe(ch, recording(release, state, 'bastion-1'), 1);
      expect(p.plan.changes.filter((c) => c.type === 'pam-stack')).toEqual([]);
      return (p.states[i] as PamStackState).files.map((f) => f.path);
    };
    // fresh: Debian's sshd stack includes common-auth; converged: the bastion has commented that
    // include out (operators answer a TOTP code, never a password), so common-auth is no longer read
    expect(files('fresh')).toEqual(['/etc/pam.d/sshd', '/etc/pam.d/common-auth', '/etc/pam.d/common-account', '/etc/pam.d/common-session', '/etc/pam.d/common-password']);
    expect(files('converged')).toEqual(['/etc/pam.d/sshd', '/etc/pam.d/common-account', '/etc/pam.d/common-session', '/etc/pam.d/common-password']);
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

  test('no pin: roles that configure the releases differently (base: OpenSSH 10\'s key exchange) ask for one, offline', async () => {
    const lab = pinned(undefined);
    delete lab.lab; // a lab host without a pin gets the lab's default release: below
    const err = await compile(lab, loadPlaybook(site), { controllerAddresses: ['10.213.96.1'] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const first = (err as InputError).problems[0]!;
    expect(first).toMatchObject({ file: path.join(inv, 'hosts.yaml'), at: 'hosts.bastion-1.spec.os', found: 'no spec.os' });
    expect(first.expected).toBe('a release pinned for this host: its roles configure debian-12 and debian-13 differently (file:/etc/ssh/sshd_config.d/10-provision.conf; role base)');
  });

  test('a lab host without a pin is compiled for the lab\'s default release, and its plan fails on another', async () => {
    const ch = (await compile(pinned(undefined), loadPlaybook(site), { controllerAddresses: ['10.213.96.1'] })).hosts.get('drand-1')!;
    expect(ch.release).toBe(DEFAULT_RELEASE);
    expect(planFromProbe(ch, trixie('converged', 'drand-1'), 1).plan.error).toBe(
      'the roles were compiled for debian-12 (a lab host without spec.os), but the host runs debian-13 (Debian GNU/Linux 13 (trixie)): set spec.os',
    );
  });

  test('a role that does not support the host\'s release names both', () => {
    const p = planFromProbe(variant('drand-1', 'debian-13', { 'drand-node': ['debian-12'] }), trixie('converged', 'drand-1'), 1).plan;
    expect(p.error).toBe('role drand-node supports debian-12; the host runs debian-13 (Debian GNU/Linux 13 (trixie))');
  });

  test('a release provision does not know fails every role', () => {
    const facts = trixie('converged', 'drand-1').facts.replace('os debian|13|Debian GNU/Linux 13 (trixie)', 'os debian|11|Debian GNU/Linux 11 (bullseye)');
    const p = planFromProbe(variant('drand-1', 'debian-13'), { ...trixie('converged', 'drand-1'), facts }, 1).plan;
    expect(p.error).toBe(
      'the inventory pins spec.os debian-13, but the host runs debian-11 (Debian GNU/Linux 11 (bullseye)); ' +
        'role base supports debian-12, debian-13; the host runs debian-11 (Debian GNU/Linux 11 (bullseye)); ' +
        'role drand-node supports debian-12, debian-13; the host runs debian-11 (Debian GNU/Linux 11 (bullseye))',
    );
  });
});
