import { describe, test, expect } from '@jest/globals';
import * as r from '../../../src/resources/index.js';
import type { NftablesState } from '../../../src/resources/index.js';
import { ROOT, RULESET } from '../../fixtures/probes/cases.js';
import { changed, probed } from './fixture.js';
import { runProbe } from './local-sh.js';

describe('systemdUnit', () => {
  test('missing unit → create it, then daemon-reload', () => {
    const c = changed('systemd-unit', 'missing');
    expect(c.id).toBe('systemd-unit:provision-fixture.service');
    expect(c.summary).toBe('create /etc/systemd/system/provision-fixture.service (root:root 0644), daemon-reload');
    expect(c.diff).toContain('+ExecStart=/bin/true');
    const script = c.resource.apply(c.state);
    expect(script.indexOf('mv -fT')).toBeLessThan(script.indexOf('systemctl daemon-reload'));
  });

  test('file right but systemd runs an older one → daemon-reload only', () => {
    const u = r.systemdUnit({ name: 'a.service', content: 'x' });
    const out = 'kind file\nstat root root 0 0 644 1\nsha256 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\nNeedDaemonReload=yes\nDropInPaths=\n';
    const c = u.diff(u.parse(out, 0));
    expect(c?.summary).toBe('daemon-reload: a.service changed on disk since systemd loaded it');
    expect(u.diff(u.parse(out.replace('NeedDaemonReload=yes', 'NeedDaemonReload=no'), 0))).toBeNull();
  });

  test('unit names are validated', () => {
    expect(() => r.systemdUnit({ name: '../x.service', content: '' })).toThrow(/not a valid systemd unit name/);
    expect(() => r.systemdUnit({ name: 'drand', content: '' })).toThrow(/suffix/);
    expect(() => r.systemdUnit({ name: 'drand.service' } as r.SystemdUnitOptions)).toThrow(/content is required/);
    expect(r.systemdUnit({ name: 'drand-relay@.service', content: 'x' }).id).toBe('systemd-unit:drand-relay@.service');
  });
});

describe('service', () => {
  test('enabled unit; is-active gave no answer (no systemd as PID 1 here) → start', () => {
    const c = changed('service', 'enabled-unit');
    expect(c.state).toEqual({ enabled: 'enabled', active: 'unknown' });
    expect(c.summary).toBe('start systemd-timesyncd.service: active: unknown → active');
    expect(c.resource.apply(c.state)).toContain('systemctl start -- systemd-timesyncd.service');
    expect(c.resource.apply(c.state)).not.toContain('enable');
  });

  test('disabled → enable', () => {
    const c = changed('service', 'disabled-unit');
    expect(c.diff).toBe('- enabled: disabled\n+ enabled: enabled');
    expect(c.resource.apply(c.state)).toContain('systemctl enable -- nftables.service');
  });

  test('a static unit cannot be enabled or disabled: converged either way', () => {
    expect(probed('service', 'static-unit').change).toBeNull();
  });

  test('unit not found → planned with a note (an earlier resource may create it)', () => {
    const c = changed('service', 'not-found');
    expect(c.summary).toBe('enable and start drand.service: enabled: not-found → enabled, active: unknown → active (unit not found yet)');
  });

  test('masked → unmask before enable; enabled-runtime is not enabled enough', () => {
    const s = r.service({ name: 'x', enabled: true });
    // systemctl show prints the properties in its own order, not the one asked for
    expect(s.apply(s.parse('LoadState=masked\nActiveState=inactive\nUnitFileState=masked\n', 0))).toMatch(/unmask -- x \|\| exit \$\?\nsystemctl enable -- x/);
    expect(s.diff(s.parse('LoadState=loaded\nActiveState=active\nUnitFileState=enabled-runtime\n', 0))).not.toBeNull();
    const off = r.service({ name: 'x', enabled: false, running: false });
    expect(off.diff(off.parse('LoadState=masked\nActiveState=failed\nUnitFileState=masked\n', 0))).toBeNull();
    expect(off.apply(off.parse('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n', 0))).toContain('systemctl disable -- x || exit $?\nsystemctl stop -- x');
    // a unit systemd cannot find: LoadState=not-found and an empty UnitFileState
    expect(s.diff(s.parse('LoadState=not-found\nActiveState=inactive\nUnitFileState=\n', 0))?.summary).toBe('enable x: enabled: not-found → enabled (unit not found yet)');
  });

  test('handlers: restart and reload scripts, names checked', () => {
    expect(r.restartHandler('drand.service')).toEqual({ script: 'systemctl restart -- drand.service\n', effect: 'service drand.service will restart', restarts: 'drand.service' });
    expect(r.restartHandler('node-exp', { daemonReload: true })).toEqual({
      script: 'systemctl daemon-reload\nsystemctl restart -- node-exp\n',
      effect: 'systemd daemon-reload, then service node-exp will restart',
      restarts: 'node-exp',
    });
    expect(r.reloadHandler('nginx')).toEqual({ script: 'systemctl reload -- nginx\n', effect: 'service nginx reloads, its process keeps running' });
    expect(r.reloadHandler('ssh', { check: '/usr/sbin/sshd -t' }).script).toBe('/usr/sbin/sshd -t\nsystemctl reload -- ssh\n');
    expect(() => r.restartHandler('x; reboot')).toThrow(/not a valid systemd unit name/);
    expect(() => r.reloadHandler('x; reboot')).toThrow(/not a valid systemd unit name/);
  });

  test('a service with nothing to converge is refused', () => {
    expect(() => r.service({ name: 'x' })).toThrow(/nothing to converge/);
  });
});

describe('sysctl', () => {
  test('live value right (tab-separated by sysctl -n) but not persisted → persist only', () => {
    const c = changed('sysctl', 'port-range');
    expect(c.state).toMatchObject({ live: '32768 60999', file: { kind: 'missing' } });
    expect(c.summary).toBe('persist in /etc/sysctl.d/60-provision-net.ipv4.ip_local_port_range.conf');
    const script = c.resource.apply(c.state);
    expect(script).not.toContain('sysctl -q -w');
    expect(script).toContain('mv -fT');
  });

  test('unknown key → planned, says apply will fail', () => {
    expect(changed('sysctl', 'no-such-key').summary).toBe(
      'set net.ipv4.no_such_key: (no such key) → 1 (unknown to this kernel: apply will fail), persist in /etc/sysctl.d/60-provision-net.ipv4.no_such_key.conf',
    );
  });

  test("the probe reads this machine's kernel: a multi-number value on one line, an unknown key as none", () => {
    const live = (key: string) => r.sysctl({ key, value: 1 }).parse(runProbe(r.sysctl({ key, value: 1 }).probe()).stdout, 0).live;
    // /proc/sys shows the two numbers tab-separated; the probe joins them with a space
    expect(live('net.ipv4.ip_local_port_range')).toMatch(/^\d+ \d+$/);
    expect(live('kernel.ostype')).toBe('Linux');
    expect(live('net.ipv4.no_such_key')).toBeUndefined();
  });

  test('live value differs → sysctl -w before persisting', () => {
    const s = r.sysctl({ key: 'net.ipv4.ip_forward', value: 1 });
    const state = s.parse('kind missing\nlive 0\n', 0);
    expect(s.diff(state)?.diff).toContain('- net.ipv4.ip_forward: 0\n+ net.ipv4.ip_forward: 1');
    const script = s.apply(state);
    expect(script.indexOf(`sysctl -q -w net.ipv4.ip_forward=1`)).toBeGreaterThan(0);
    expect(script.indexOf('sysctl -q -w')).toBeLessThan(script.indexOf('mktemp'));
  });

  test('a key the kernel reacts to: an earlier file, and what the kernel resets set again in the same step', () => {
    const s = r.sysctl({ key: 'net.ipv4.ip_forward', value: 0, order: 55, resets: { 'net.ipv4.conf.all.accept_redirects': 0 } });
    const state = s.parse('kind missing\nlive 1\n', 0);
    expect(s.diff(state)?.summary).toBe(
      'set net.ipv4.ip_forward: 1 → 0 (the kernel then resets net.ipv4.conf.all.accept_redirects: set again to 0), persist in /etc/sysctl.d/55-provision-net.ipv4.ip_forward.conf',
    );
    // one sysctl call, in this order: the key, then what its change reset
    expect(s.apply(state)).toContain('sysctl -q -w net.ipv4.ip_forward=0 net.ipv4.conf.all.accept_redirects=0 || exit $?\n');
    // the value is right: the kernel touches nothing, nothing is set again
    const fileOnly = s.parse('kind missing\nlive 0\n', 0);
    expect(s.diff(fileOnly)?.summary).toBe('persist in /etc/sysctl.d/55-provision-net.ipv4.ip_forward.conf');
    expect(s.apply(fileOnly)).not.toContain('sysctl -q -w');
    expect(() => r.sysctl({ key: 'net.ipv4.ip_forward', value: 0, order: 5 })).toThrow(/order must be a whole number from 10 to 99/);
    expect(() => r.sysctl({ key: 'net.ipv4.ip_forward', value: 0, resets: { 'x; reboot': 1 } })).toThrow(/is not another dotted key/);
    expect(() => r.sysctl({ key: 'net.ipv4.ip_forward', value: 0, resets: { 'net.ipv4.ip_forward': 1 } })).toThrow(/is not another dotted key/);
  });

  test('keys and values are validated', () => {
    expect(() => r.sysctl({ key: 'net/ipv4/ip_forward', value: 1 })).toThrow(/dotted words/);
    expect(() => r.sysctl({ key: '-w.x', value: 1 })).toThrow(/dotted words/);
    expect(() => r.sysctl({ key: 'net.ipv4.ip_forward', value: '1\nkernel.x = 2' })).toThrow(/single line/);
  });
});

describe('nftables', () => {
  test('file right but never loaded by provision → reload', () => {
    const c = changed('nftables', 'not-loaded');
    expect(c.summary).toBe(`reload ${ROOT}/nftables/nftables.conf: never loaded by provision`);
    const script = c.resource.apply(c.state);
    expect(script).toContain('nft -c -f "$p" || exit $?\nnft -f "$p" || exit $?');
    expect(script).not.toContain('mktemp');
  });

  test('file differs → diff, check and load from the temp file before it replaces the file', () => {
    const c = changed('nftables', 'file-differs');
    expect(c.summary).toBe(`update ${ROOT}/nftables/old.conf: content changed, then load it`);
    expect(c.diff).toContain('+table inet filter {');
    const script = c.resource.apply(c.state);
    expect(script).toContain('&& ( nft -c -f "$t" && nft -f "$t" ) && mv -fT');
    expect(script.indexOf('mv -fT')).toBeLessThan(script.indexOf('nft -s list ruleset'));
  });

  test('loaded, then someone ran `nft flush ruleset` → drift', () => {
    const n = r.nftables({ ruleset: RULESET, path: `${ROOT}/nftables/nftables.conf` });
    const base = n.parse(probed('nftables', 'not-loaded').output, 0);
    const wantSha = base.file.sha256 ?? '';
    const loaded: NftablesState = { ...base, loaded: { fileSha256: wantSha, liveSha256: 'aaaa' }, liveSha256: 'aaaa' };
    expect(n.diff(loaded)).toBeNull();
    const flushed: NftablesState = { ...loaded, liveSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' };
    expect(n.diff(flushed)?.summary).toContain('the live ruleset changed since it was loaded');
  });

  test('guard on by default: restore reloads the old file, or flushes when there was none', () => {
    const n = r.nftables({ ruleset: RULESET });
    expect(n.guard).toBe(true);
    expect(n.guardPaths?.()).toEqual(['/etc/nftables.conf']);
    expect(n.guardRestore?.()).toMatch(/if \[ -f "\$p" \]; then\nnft -f "\$p"[\s\S]*else\nnft flush ruleset/);
    expect(r.nftables({ ruleset: RULESET, guard: false }).guard).toBe(false);
  });

  test('a ruleset that does not start over is refused', () => {
    expect(() => r.nftables({ ruleset: 'table inet f { }' })).toThrow(/start over/);
  });
});

describe('command', () => {
  test('creates exists → null; missing → run', () => {
    expect(probed('command', 'creates-exists').change).toBeNull();
    const c = changed('command', 'creates-missing');
    expect(c.action).toBe('run');
    expect(c.summary).toBe(`run "init" (${ROOT}/command/done does not exist)`);
    expect(c.diff).toBe('+ touch /x');
  });

  test('unless exits 0 → null; unless reading stdin and exiting → not done, probe did not leak', () => {
    expect(probed('command', 'unless-true').change).toBeNull();
    expect(changed('command', 'unless-exits').summary).toBe('run "check" (its unless test fails)');
  });

  test('apply runs the script in a subshell with stdin closed', () => {
    const c = r.command({ name: 'x', run: 'echo hi', creates: '/x' });
    expect(c.apply({ done: false })).toBe('(\n{\n(\necho hi\n)\n} || exit $?\n) </dev/null\n');
    expect(c.apply({ done: true })).toBe('(\n:\n) </dev/null\n');
  });

  test('a command that could never converge is refused', () => {
    expect(() => r.command({ name: 'x', run: 'true' })).toThrow(/creates or unless/);
  });
});
