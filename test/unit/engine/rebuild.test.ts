// provision rebuild's pure parts: which snapshot, the host's state with its services held stopped.
import { describe, test, expect } from '@jest/globals';
import { holdServices, pickSnapshot, type SnapshotInfo } from '../../../src/apply/rebuild.js';
import type { CompiledHost } from '../../../src/plan/compile.js';
import * as r from '../../../src/resources/index.js';

const snap = (short: string, time: string): SnapshotInfo => ({ id: `${short}${'0'.repeat(56)}`, short_id: short, time, paths: ['/var/lib/x'] });
const list = [snap('bbbbbbbb', '2026-12-02T01:00:00Z'), snap('aaaaaaaa', '2026-12-01T01:00:00Z')];

describe('rebuild: the snapshot', () => {
  test('the newest by default, or the one named by short or full id', () => {
    expect(pickSnapshot(list, 'h', 's').short_id).toBe('bbbbbbbb');
    expect(pickSnapshot(list, 'h', 's', 'aaaaaaaa').short_id).toBe('aaaaaaaa');
    expect(pickSnapshot(list, 'h', 's', list[1]!.id).short_id).toBe('aaaaaaaa');
  });
  test('none, or an unknown id: a clear error that says nothing was changed', () => {
    expect(() => pickSnapshot([], 'drand-1', 'snap-1')).toThrow('no snapshot of drand-1 on snap-1: nothing to rebuild from (nothing was changed)');
    expect(() => pickSnapshot(list, 'drand-1', 'snap-1', 'cccccccc')).toThrow('snapshot cccccccc of drand-1 is not on snap-1 (it has bbbbbbbb, aaaaaaaa); nothing was changed');
  });
});

describe('rebuild: services held stopped while converging', () => {
  test('the held service is wanted stopped, its restart handler does nothing, no health check yet; the rest is untouched', () => {
    const ch = {
      resources: [r.service({ name: 'drand', enabled: true, running: true }), r.service({ name: 'rsyslog', enabled: true, running: true })],
      handlers: new Map([
        ['restart drand', { ...r.restartHandler('drand'), role: 'drand-node' }],
        ['restart rsyslog', { ...r.restartHandler('rsyslog'), role: 'base' }],
      ]),
      health: [{ name: 'drand /health answers 200', script: 'true' }],
    } as unknown as CompiledHost;
    const held = holdServices(ch, ['drand']);
    expect(held.resources[0]!.desired).toBe(r.service({ name: 'drand', enabled: true, running: false }).desired);
    expect(held.resources[1]).toBe(ch.resources[1]);
    expect(held.handlers.get('restart drand')!.script).toBe(':');
    expect(held.handlers.get('restart drand')!.effect).toMatch(/held stopped for the rebuild$/);
    expect(held.handlers.get('restart rsyslog')).toBe(ch.handlers.get('restart rsyslog'));
    expect(held.health).toEqual([]);
  });
});
