// `desired` is what makes two declarations "the same resource" and what a saved plan is checked
// against: it must follow every option, and only the options.
import { describe, test, expect } from '@jest/globals';
import * as r from '../../../src/resources/index.js';

describe('desired-state hash', () => {
  test('differs when any option differs, even one kept in a closure', () => {
    expect(r.service({ name: 'x', running: true }).desired).not.toBe(r.service({ name: 'x', running: false }).desired);
    expect(r.file({ path: '/etc/a', content: 'one' }).desired).not.toBe(r.file({ path: '/etc/a', content: 'two' }).desired);
    expect(r.file({ path: '/etc/a', content: 'x', mode: '0600' }).desired).not.toBe(r.file({ path: '/etc/a', content: 'x', mode: '0644' }).desired);
    expect(r.apt({ name: 'rsyslog', notify: ['a'] }).desired).not.toBe(r.apt({ name: 'rsyslog' }).desired);
  });

  test('is the same for the same options in any key order', () => {
    expect(r.service({ name: 'x', enabled: true, running: true }).desired).toBe(r.service({ running: true, enabled: true, name: 'x' }).desired);
    expect(r.apt({ name: 'rsyslog' }).desired).toMatch(/^[0-9a-f]{64}$/);
  });
});
