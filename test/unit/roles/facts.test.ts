// Facts roles declare (src/roles/facts.ts), parsed from probe output recorded on real machines
// (test/fixtures/facts/README.md), and the encrypted-disk check drand-node makes of one.
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { encryptedDiskCheck, encryptedDiskFact, memoryFact } from '../../../src/roles/facts.js';
import drandNode from '../../../roles/drand-node/role.js';
import { sh } from '../../../src/shell/quote.js';

const rec = (name: string) => fs.readFileSync(path.join(process.cwd(), 'test/fixtures/facts', name), 'utf8');
const SEED = 'seed 000';

describe('the encrypted-disk fact', () => {
  const fact = encryptedDiskFact('/var/lib/drand');
  test('the probe asks about the path given, quoted, and walks up to an existing parent', () => {
    expect(fact.probe).toContain('p=/var/lib/drand;');
    expect(encryptedDiskFact("/srv/it's $(x)").probe).toContain(`p=${sh("/srv/it's $(x)")};`);
    expect(sh("/srv/it's $(x)")).not.toBe("/srv/it's $(x)");
  });

  test('a machine whose disk is not dm-crypt: enforce fails, warn warns, both name the device', () => {
    const f = fact.parse(rec('encrypted-disk.vm.txt'), 0);
    expect(f).toEqual({ path: '/var/lib', container: null, devices: ['vda'], encrypted: false });
    const problem = '/var/lib is on block device vda, none of them dm-crypt (seed 000)';
    expect(encryptedDiskCheck('the drand folder', f, 'enforce', SEED)).toEqual({ name: 'the drand folder on an encrypted disk', mode: 'enforce', problem });
    expect(encryptedDiskCheck('the drand folder', f, 'warn', SEED).problem).toBe(problem);
    // the same machine with a dm-crypt device under the path passes
    expect(encryptedDiskCheck('the drand folder', { ...f, devices: ['dm-0', 'vda2'], encrypted: true }, 'enforce', SEED).problem).toBeNull();
  });

  test('a lab host (a container): skipped, with its reason', () => {
    const f = fact.parse(rec('encrypted-disk.lab.txt'), 0);
    expect(f).toEqual({ path: '/var/lib', container: 'systemd-nspawn', devices: [], encrypted: false });
    expect(encryptedDiskCheck('the drand folder', f, 'enforce', SEED)).toMatchObject({ problem: null, skipped: expect.stringMatching(/^a container \(systemd-nspawn\) has no block device of its own/) });
  });

  test('output that is not the probe\'s is an error, not a pass', () => {
    expect(() => fact.parse('', 127)).toThrow(/the probe printed ""/);
  });

  test('drand-node declares it for its folder and checks it as its vars say (default enforce)', () => {
    const vars = { folder: '/srv/drand', encrypted_disk: 'enforce' };
    const facts = drandNode.facts!({ host: { name: 'd', address: '192.0.2.1', groups: [], roles: [], provider: 'lab' }, vars: vars as never });
    expect(Object.keys(facts)).toEqual(['folderDisk']);
    expect(facts.folderDisk!.probe).toContain('p=/srv/drand;');
    const f = fact.parse(rec('encrypted-disk.vm.txt'), 0);
    const checks = drandNode.checks!({ vars, fact: () => f } as never);
    expect(checks).toEqual([expect.objectContaining({ mode: 'enforce', problem: expect.stringContaining('seed 000: "Encrypt disks containing drand configuration files"') })]);
    expect(drandNode.vars.properties.encrypted_disk.default).toBe('enforce');
  });
});

describe('the memory fact', () => {
  test('MemTotal and no cgroup limit: usable is the total', () => {
    expect(memoryFact().parse(rec('memory.vm.txt'), 0)).toEqual({ totalMiB: 24105, limitMiB: null, usableMiB: 24105 });
  });
  test('a cgroup limit below MemTotal is what is usable', () => {
    const out = rec('memory.vm.txt').replace('max none', 'max 2147483648');
    expect(memoryFact().parse(out, 0)).toEqual({ totalMiB: 24105, limitMiB: 2048, usableMiB: 2048 });
  });
});
