// "Converged" means the configuration in effect. Recorded with PROVISION_RECORD_PROBES on the
// hosts of test/fixtures/e2e/in-effect (node-1: base + a hardened fixture daemon, login root;
// ops-1: base, login user ops with sudo): drifted = foreign files put there by hand (a unit
// drop-in running the daemon as root with its sandbox off, one replacing ExecStart, an early sshd
// file with PermitRootLogin yes, a sudoers file granting NOPASSWD), converged = after apply.
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, expect, beforeAll } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile, type CompiledHost } from '../../../src/plan/compile.js';
import { planFromProbe } from '../../../src/plan/planner.js';
import type { ProbeOutput } from '../../../src/plan/probe-script.js';
import { recordedBeforeBaseline } from './replay.js';

const repo = process.cwd();
const inv = path.join(repo, 'test/fixtures/e2e/in-effect');
const hosts = new Map<string, CompiledHost>();
const recorded = (state: string, host: string): ProbeOutput =>
  JSON.parse(fs.readFileSync(path.join(repo, 'test/fixtures/plan-in-effect', state, `${host}.json`), 'utf8')) as ProbeOutput;
const plan = (state: string, host: string) => planFromProbe(hosts.get(host)!, recorded(state, host), 1);
// These hosts were recorded before base offered only modern SSH cryptography (roles/base/sshd.ts
// SSH_CRYPTO) and showed the legal banner: against them the plan also rewrites base's sshd drop-in,
// and sshd -T differs in exactly those settings — what a host converged by an earlier release gets
// on upgrade. They also predate the rest of the baseline (replay.ts recordedBeforeBaseline).
const CRYPTO_KEYS = ['kexalgorithms', 'ciphers', 'macs', 'hostkeyalgorithms', 'pubkeyacceptedalgorithms', 'compression', 'banner'];
const DROPIN = 'file:/etc/ssh/sshd_config.d/10-provision.conf';
/** the sshd -T fields a diff changes */
const fieldsOf = (diff: string | undefined): string[] => [...new Set([...(diff ?? '').matchAll(/^[-+] ([a-z]+):/gm)].map((m) => m[1]!))].sort();
/** a diff without its crypto fields (recorded before them) */
const withoutCrypto = (diff: string | undefined): string =>
  (diff ?? '').split('\n').filter((l) => !CRYPTO_KEYS.some((k) => l.startsWith(`- ${k}:`) || l.startsWith(`+ ${k}:`))).join('\n');
const applyOf = (state: string, host: string, id: string): string => {
  const p = plan(state, host);
  const i = hosts.get(host)!.resources.findIndex((r) => r.id === id);
  return hosts.get(host)!.resources[i]!.apply(p.states[i]);
};

beforeAll(async () => {
  const compiled = await compile(loadInventory(inv), loadPlaybook(path.join(inv, 'playbook.yaml')), { controllerAddresses: ['10.213.93.1'] }); // the lab gateway, as the CLI gives it
  for (const [name, h] of compiled.hosts) hosts.set(name, recordedBeforeBaseline(h));
});

describe('the configuration in effect, from recorded probes', () => {
  test('a foreign unit drop-in is one change with a clear diff, secrets redacted, quarantine path named', () => {
    const p = plan('drifted', 'node-1').plan;
    expect(p.changes.map((c) => c.id)).toEqual([DROPIN, 'sshd-effective:root@10.213.93.1', 'systemd-unit:e2e-daemon.service']);
    expect(fieldsOf(p.changes[1]!.diff)).toEqual([...CRYPTO_KEYS].sort());
    const c = p.changes[2]!;
    expect(c.summary).toContain('quarantine foreign drop-ins exec.conf, zz-override.conf of e2e-daemon.service');
    expect(c.summary).toContain('User: root → e2ed');
    expect(c.summary).toContain('ExecStart: /usr/bin/sleep 4242 → /usr/bin/sleep infinity');
    expect(c.diff).toContain('drop-in zz-override.conf sets User=root; the role requires User=e2ed');
    expect(c.diff).toContain('drop-in zz-override.conf sets ProtectSystem=no; the role requires ProtectSystem=strict');
    expect(c.diff).toContain('drop-in zz-override.conf sets NoNewPrivileges=no; the role requires NoNewPrivileges=yes');
    expect(c.diff).toContain('drop-in exec.conf sets ExecStart=/usr/bin/sleep 4242; the role requires ExecStart=/usr/bin/sleep infinity');
    expect(c.diff).toContain('sets Environment=<redacted>');
    expect(JSON.stringify(recorded('drifted', 'node-1'))).not.toContain('hunter2');
    expect(c.diff).toMatch(/→ apply moves it to \/var\/lib\/provision\/quarantine\/[0-9a-f]{12}\/etc\/systemd\/system\/e2e-daemon\.service\.d\/zz-override\.conf/);
  });

  test('apply moves the drop-ins aside (never rm), then daemon-reloads; the file itself is not rewritten', () => {
    const script = applyOf('drifted', 'node-1', 'systemd-unit:e2e-daemon.service');
    expect(script).toMatch(/mv -f -- \/etc\/systemd\/system\/e2e-daemon\.service\.d\/zz-override\.conf \/var\/lib\/provision\/quarantine\/[0-9a-f]{12}\//);
    expect(script).not.toMatch(/\brm\b/);
    expect(script.indexOf('mv -f --')).toBeLessThan(script.indexOf('systemctl daemon-reload'));
    expect(script).not.toContain('base64 -d');
  });

  test('sshd: an early file overriding PermitRootLogin, and what sshd -T says for the login user', () => {
    const p = plan('drifted', 'ops-1').plan;
    expect(p.changes.map((c) => c.id)).toEqual([DROPIN, 'conf-dir:/etc/ssh/sshd_config.d', 'sshd-effective:ops@10.213.93.1', 'conf-dir:/etc/sudoers.d']);
    const [, dir, eff, sudoers] = p.changes;
    expect(dir!.diff).toContain('sshd_config.d file 05-early.conf sets PermitRootLogin yes; the role requires permitrootlogin no');
    expect(dir!.diff).toMatch(/→ apply moves it to \/var\/lib\/provision\/quarantine\/[0-9a-f]{12}\/etc\/ssh\/sshd_config\.d\/05-early\.conf/);
    expect(withoutCrypto(eff!.diff)).toBe('- permitrootlogin: yes\n+ permitrootlogin: no');
    expect(sudoers!.diff).toContain('sudoers.d file 50-foreign sets nobody ALL=(ALL) NOPASSWD: ALL');
    // guarded: the lockout guard's restore puts the moved sshd files back
    const r = hosts.get('ops-1')!.resources.find((x) => x.id === 'conf-dir:/etc/ssh/sshd_config.d')!;
    expect(r.guard).toBe(true);
    expect(r.guardRestore!()).toContain('mv -f --');
    expect(applyOf('drifted', 'ops-1', 'conf-dir:/etc/sudoers.d')).toContain('visudo -c -q && sudo -n -l -U ops -- /bin/sh');
  });

  test('after apply: nothing to change on either host but the SSH cryptography and banner added since the recording', () => {
    for (const h of ['node-1', 'ops-1']) {
      const changes = plan('converged', h).plan.changes;
      expect(changes.map((c) => c.id)).toEqual([DROPIN, expect.stringMatching(/^sshd-effective:/)]);
      expect(fieldsOf(changes[1]!.diff)).toEqual([...CRYPTO_KEYS].sort());
    }
  });

  test('the root-login host expects prohibit-password as sshd -T prints it', () => {
    const r = hosts.get('node-1')!.resources.find((x) => x.id === 'sshd-effective:root@10.213.93.1')!;
    const i = hosts.get('node-1')!.resources.indexOf(r);
    const p = plan('converged', 'node-1');
    expect(p.states[i]).toMatchObject({ settings: { permitrootlogin: 'without-password', authenticationmethods: 'publickey', loglevel: 'VERBOSE' } });
  });
});
