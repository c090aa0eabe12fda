import { describe, test, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { updateKnownHostsFile, updateKnownHostsText } from '../../../src/lab/knownhosts.js';

const OLD_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOldOld';
const NEW_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNewNewNewNew';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const OTHER = 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('known_hosts update', () => {
  test('replaces only the lines of our addresses, keeps others and comments in place', () => {
    const before = ['# managed partly by provision lab', OTHER, `10.213.7.10 ${OLD_A}`, '10.213.7.100 ssh-ed25519 AAAAkeepme', ''].join('\n');
    const after = updateKnownHostsText(before, [{ address: '10.213.7.10', key: NEW_A }, { address: '10.213.7.11', key: KEY_B }]);
    expect(after).toBe(['# managed partly by provision lab', OTHER, '10.213.7.100 ssh-ed25519 AAAAkeepme', `10.213.7.10 ${NEW_A}`, `10.213.7.11 ${KEY_B}`, ''].join('\n'));
    expect(after).not.toContain(OLD_A);
  });

  test('bracketed port-22 and comma-list forms of our address are replaced; other ports and prefixes are not', () => {
    const before = [`[10.213.7.10]:22 ${OLD_A}`, `bastion,10.213.7.10 ${OLD_A}`, `[10.213.7.10]:2222 ${OLD_A}`, `10.213.7.101 ${OLD_A}`].join('\n');
    const after = updateKnownHostsText(before, [{ address: '10.213.7.10', key: NEW_A }]);
    expect(after.split('\n').filter(Boolean)).toEqual([`[10.213.7.10]:2222 ${OLD_A}`, `10.213.7.101 ${OLD_A}`, `10.213.7.10 ${NEW_A}`]);
  });

  test('@revoked and @cert-authority lines for the address are dropped with the rest', () => {
    const after = updateKnownHostsText(`@revoked 10.213.7.10 ${OLD_A}\n`, [{ address: '10.213.7.10', key: NEW_A }]);
    expect(after).toBe(`10.213.7.10 ${NEW_A}\n`);
  });

  test('writing the same keys twice leaves the file untouched', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-kh-'));
    try {
      const file = path.join(dir, 'known_hosts');
      writeFileSync(file, `${OTHER}\n`);
      expect(await updateKnownHostsFile(file, [{ address: '10.213.7.10', key: NEW_A }])).toBe(true);
      expect(await updateKnownHostsFile(file, [{ address: '10.213.7.10', key: NEW_A }])).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe(`${OTHER}\n10.213.7.10 ${NEW_A}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing file is created', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-kh-'));
    try {
      const file = path.join(dir, 'sub', 'known_hosts');
      await updateKnownHostsFile(file, [{ address: '10.213.7.11', key: KEY_B }]);
      expect(readFileSync(file, 'utf8')).toBe(`10.213.7.11 ${KEY_B}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
