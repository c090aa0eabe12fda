// Probes recorded in a throwaway Debian 12 container before and after applying (container.ts):
// before → the change the plan showed; after → converged.
import { describe, test, expect } from '@jest/globals';
import { containerCases } from '../../fixtures/probes/cases.js';
import { fixture } from './fixture.js';

const recorded = (type: string, name: string) => {
  const c = containerCases.find((x) => x.type === type && x.name === name);
  if (!c) throw new Error(`no container case ${type}/${name}`);
  const resource = c.resource();
  const state = (suffix: string) => resource.parse(fixture(type, `ct-${name}${suffix}`), 0);
  return { resource, before: state(''), after: c.observe ? undefined : state('.after') };
};

describe('recorded in a container: every apply converged', () => {
  test.each(containerCases.filter((c) => !c.observe).map((c) => [c.type, c.name]))('%s/%s: a change before, none after', (type, name) => {
    const { resource, before, after } = recorded(type, name);
    expect(resource.diff(before)).not.toBeNull();
    expect(resource.diff(after)).toBeNull();
  });
});

describe('recorded in a container: what the plan said', () => {
  test('user drift: shell and the exact group set', () => {
    const { resource, before } = recorded('user', 'drift');
    expect(resource.diff(before)?.diff).toBe('- shell: /bin/bash\n+ shell: /usr/sbin/nologin\n- groups: adm,users\n+ groups: adm');
  });

  test('sysctl: live and file, tab-separated value read as spaces', () => {
    const { resource, before, after } = recorded('sysctl', 'port-range');
    expect(before).toMatchObject({ live: '32768 60999', file: { kind: 'missing' } });
    expect(after).toMatchObject({ live: '1024 65000', file: { kind: 'file', mode: '0644' } });
    expect(resource.diff(before)?.diff).toContain('+++ b/etc/sysctl.d/60-provision-net.ipv4.ip_local_port_range.conf');
  });

  test('nftables: Debian default file replaced with a diff; after, the record matches the live ruleset', () => {
    const { resource, before, after } = recorded('nftables', 'first-load');
    const change = resource.diff(before);
    expect(change?.diff).toContain('+\t\ttcp dport 22 accept'.replace('\t\t', '    '));
    expect(change?.diff).toContain('--- a/etc/nftables.conf');
    expect(after).toMatchObject({ loaded: { liveSha256: (after as { liveSha256: string }).liveSha256 } });
  });

  test('nftables: `nft flush ruleset` after loading is drift', () => {
    const { resource, before } = recorded('nftables', 'flushed');
    expect(before).toMatchObject({ liveSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    expect(resource.diff(before)?.summary).toBe('reload /etc/nftables.conf: the live ruleset changed since it was loaded (flushed or edited by hand)');
  });

  test('systemd: a foreign drop-in turning a sandbox setting off is quarantined, its secret never leaves the host', () => {
    const { resource, before } = recorded('systemd-unit', 'foreign-dropin');
    expect(before).toMatchObject({ props: { NoNewPrivileges: 'no', PrivateTmp: 'yes', ExecStart: '/bin/true' } });
    const c = resource.diff(before)!;
    expect(c.summary).toBe('quarantine foreign drop-in zz-override.conf of provision-test.service; in effect NoNewPrivileges: no → yes');
    expect(c.diff).toContain('drop-in zz-override.conf sets NoNewPrivileges=no; the role requires NoNewPrivileges=yes');
    expect(c.diff).toContain('drop-in zz-override.conf sets Environment=<redacted>');
    expect(fixture('systemd-unit', 'ct-foreign-dropin')).not.toContain('hunter2');
    expect(resource.apply(before)).toContain('systemctl daemon-reload');
  });

  test('systemd: a drop-in the role tolerates is left alone', () => {
    const { resource, before } = recorded('systemd-unit', 'tolerated');
    expect(before).toMatchObject({ props: { NoNewPrivileges: 'yes' } });
    expect((before as { foreign?: unknown }).foreign).toBeUndefined();
    expect(resource.diff(before)).toBeNull();
  });

  test('systemd: a unit file changed on disk while loaded needs a daemon-reload', () => {
    const { resource, before } = recorded('systemd-unit', 'touched');
    expect(before).toMatchObject({ kind: 'file', needsReload: true });
    expect(resource.diff(before)?.summary).toBe('daemon-reload: provision-test.service changed on disk since systemd loaded it');
  });

  test('service: started and enabled for real; a failed unit counts as not running', () => {
    const { after } = recorded('service', 'start');
    expect(after).toEqual({ enabled: 'enabled', active: 'active' });
    const failed = recorded('service', 'failed');
    expect(failed.before).toEqual({ active: 'failed' });
    expect(failed.resource.diff(failed.before)).toBeNull();
  });

  test('apt: a removed package with config files left counts as absent', () => {
    const { after } = recorded('apt', 'remove');
    expect(after).toEqual({ installed: [] });
  });
});
