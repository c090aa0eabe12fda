import { describe, test, expect } from '@jest/globals';
import * as r from '../../../src/resources/index.js';
import { changed, fixture, probed } from './fixture.js';

describe('apt', () => {
  test('all installed → null', () => {
    const p = probed('apt', 'installed');
    expect(p.state).toEqual({ installed: ['coreutils', 'sudo'] });
    expect(p.change).toBeNull();
  });

  test('only the missing packages are installed', () => {
    const c = changed('apt', 'some-missing');
    expect(c.id).toBe('apt:curl,tree,nginx');
    expect(c.summary).toBe('install tree, nginx');
    expect(c.diff).toBe('+ tree\n+ nginx');
    const script = c.resource.apply(c.state);
    expect(script).toContain('install -y --no-install-recommends tree nginx');
    expect(script).not.toMatch(/install[^\n]*curl/);
    expect(script).toContain('DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120');
    expect(script.indexOf(' update')).toBeLessThan(script.indexOf(' install -y'));
  });

  test('absent → remove the installed ones', () => {
    const c = changed('apt', 'absent-installed');
    expect(c.action).toBe('delete');
    expect(c.resource.apply(c.state)).toContain('remove -y jq');
  });

  test('config-files only (removed, not purged) counts as not installed', () => {
    const a = r.apt({ name: 'nginx' });
    expect(a.parse('nginx deinstall ok config-files\n', 0)).toEqual({ installed: [] });
    expect(a.parse('nginx hold ok installed\n', 0)).toEqual({ installed: ['nginx'] });
  });

  test('names are validated', () => {
    expect(() => r.apt({ name: '-o APT::x' })).toThrow(/not a Debian package name/);
    expect(() => r.apt({ name: 'nginx; rm -rf /' })).toThrow(/not a Debian package name/);
    expect(() => r.apt({ name: [] })).toThrow(/non-empty list/);
    expect(() => r.apt({ name: ['a1', 'a1'] })).toThrow(/twice/);
  });
});

describe('group', () => {
  test('exists → null; state has gid and members', () => {
    const p = probed('group', 'exists');
    expect(p.state).toEqual({ exists: true, gid: 103, members: ['postgres'] });
    expect(p.change).toBeNull();
  });

  test('missing → groupadd --system', () => {
    const r1 = r.group({ name: 'drand', system: true });
    const s = r1.parse('', 0);
    expect(r1.diff(s)?.summary).toBe('create system group drand');
    expect(r1.apply(s)).toContain('groupadd --system -- drand');
    expect(changed('group', 'missing').summary).toBe('create group drand');
  });

  test('absent → groupdel', () => {
    const c = changed('group', 'absent-exists');
    expect(c.action).toBe('delete');
    expect(c.resource.apply(c.state)).toContain('groupdel -- nogroup');
  });

  test('members: only the missing ones are added (usermod --append), other members are left alone', () => {
    // the recorded ssl-cert group lists postgres
    const want = r.group({ name: 'ssl-cert', members: ['postgres', 'root'] });
    const s = want.parse(fixture('group', 'exists'), 0);
    const c = want.diff(s)!;
    expect([c.action, c.summary, c.diff]).toEqual(['update', 'add root to group ssl-cert', '+ member root']);
    expect(want.apply(s)).toContain('usermod --append --groups ssl-cert -- root');
    expect(want.apply(s)).not.toContain('postgres');
    expect(r.group({ name: 'ssl-cert', members: ['postgres'] }).diff(s)).toBeNull();
    expect(r.group({ name: 'ssl-cert' }).diff(s)).toBeNull();
    expect(() => r.group({ name: 'x', state: 'absent', members: ['root'] })).toThrow(/no members to add/);
    expect(() => r.group({ name: 'x', members: ['$(reboot)'] })).toThrow(/not a valid user or group name/);
  });

  test('guard backs up the account databases', () => {
    expect(r.group({ name: 'ops', guard: true }).guardPaths?.()).toContain('/etc/gshadow');
  });

  test('hostile or numeric names are refused', () => {
    expect(() => r.group({ name: '$(touch /tmp/x)' })).toThrow(/not a valid user or group name/);
    expect(() => r.group({ name: '1000' })).toThrow(/numeric/);
  });
});

describe('user', () => {
  test('home, shell and supplementary groups as wanted → null', () => {
    const p = probed('user', 'converged');
    expect(p.state).toEqual({
      exists: true,
      uid: 101,
      home: '/var/lib/postgresql',
      shell: '/bin/bash',
      primaryGroup: 'postgres',
      groups: ['ssl-cert'],
      homeExists: true,
    });
    expect(p.change).toBeNull();
  });

  test('drift shows field by field; usermod sets the exact group set', () => {
    const c = changed('user', 'drift');
    expect(c.summary).toBe('update user postgres: home, shell, groups');
    expect(c.diff).toBe(
      ['- home: /var/lib/postgresql', '+ home: /srv/postgres', '- shell: /bin/bash', '+ shell: /usr/sbin/nologin', '- groups: ssl-cert', '+ groups: (none)'].join('\n'),
    );
    expect(c.resource.apply(c.state)).toContain(`usermod --home /srv/postgres --shell /usr/sbin/nologin --groups '' -- "$u"`);
  });

  test('createHome with a missing home: directory → create it', () => {
    const c = changed('user', 'home-missing');
    expect(c.diff).toBe('- home directory: (missing)\n+ home directory: /nonexistent');
    expect(c.resource.apply(c.state)).toContain(`mkdir -m 0700 -- "$h"`);
  });

  test('missing → useradd, joining an existing group of the same name', () => {
    const c = changed('user', 'missing');
    expect(c.action).toBe('create');
    expect(c.summary).toBe('create user drand (system, home /var/lib/drand, shell /usr/sbin/nologin, groups ssl-cert)');
    const script = c.resource.apply(c.state);
    expect(script).toContain('useradd --gid "$u" --system --home-dir /var/lib/drand --shell /usr/sbin/nologin --groups ssl-cert --no-create-home -- "$u"');
    expect(script).toContain('useradd --user-group --system');
  });

  test('the primary group listed among the groups is not a difference', () => {
    const u = r.user({ name: 'postgres', groups: ['postgres', 'ssl-cert'] });
    expect(u.diff(u.parse(probed('user', 'converged').output, 0))).toBeNull();
  });

  test('absent → userdel', () => {
    const u = r.user({ name: 'postgres', state: 'absent' });
    const s = u.parse(probed('user', 'converged').output, 0);
    expect(u.diff(s)?.summary).toBe('remove user postgres');
    expect(u.apply(s)).toContain('userdel -- "$u"');
  });

  test('validation', () => {
    expect(() => r.user({ name: 'a b' })).toThrow(/not a valid user/);
    expect(() => r.user({ name: 'x', home: 'relative' })).toThrow(/absolute path/);
    expect(() => r.user({ name: 'x', groups: ['ok', '-G'] })).toThrow(/not a valid user or group name/);
  });
});
