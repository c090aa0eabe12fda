import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { matchHosts } from '../../../src/inventory/pattern.js';
import { InputError } from '../../../src/input/errors.js';

const fixture = (name: string) => path.join(process.cwd(), 'test/fixtures/inventories', name);

describe('inventory loading and variable precedence', () => {
  const inv = loadInventory(fixture('precedence'));

  test('groups include parents through children, and "all"', () => {
    expect(inv.hosts.get('a1')!.groups).toEqual(['all', 'alpha', 'servers']);
    expect(inv.hosts.get('gate')!.groups).toEqual(['all']);
  });

  test('vars: group_vars/all < parent group < child group < host_vars; maps merge, lists replace', () => {
    const a1 = inv.hosts.get('a1')!.vars.base as Record<string, unknown>;
    const a2 = inv.hosts.get('a2')!.vars.base as Record<string, unknown>;
    const b1 = inv.hosts.get('b1')!.vars.base as Record<string, unknown>;
    expect(a1.level).toBe('host-a1');
    expect(a2.level).toBe('alpha');
    expect(b1.level).toBe('servers');
    expect(a2.monitoring).toEqual(['10.0.0.6']);
    expect(b1.monitoring).toEqual(['10.0.0.5']);
    expect(b1.nested).toEqual({ from_all: 1, shared: 'servers' });
  });

  test('connection settings: defaults < group < host entry', () => {
    const a1 = inv.hosts.get('a1')!;
    const a2 = inv.hosts.get('a2')!;
    const b1 = inv.hosts.get('b1')!;
    const gate = inv.hosts.get('gate')!;
    expect([a1.user, a1.port, a1.jump, a1.sizing]).toEqual(['deploy', 2200, 'gate', 'warn']);
    expect(a2.port).toBe(2222);
    expect([b1.user, b1.sizing]).toEqual(['ops', 'enforce']);
    expect([gate.user, gate.jump, gate.port]).toEqual(['root', undefined, 22]);
    expect(a1.key).toBe(path.join(fixture('precedence'), 'no-such-key'));
  });

  test('host patterns: union, exclusion, intersection, glob', () => {
    expect(matchHosts(inv, 'servers')).toEqual(['a1', 'a2', 'b1']);
    expect(matchHosts(inv, 'servers:!alpha')).toEqual(['b1']);
    expect(matchHosts(inv, 'servers:&alpha:!a2')).toEqual(['a1']);
    expect(matchHosts(inv, 'gat*')).toEqual(['gate']);
    // a glob matches group names too: 'al*' is the groups all and alpha
    expect(matchHosts(inv, 'al*')).toEqual(['gate', 'a1', 'a2', 'b1']);
    expect(matchHosts(inv, '!gate')).toEqual(['a1', 'a2', 'b1']);
    expect(() => matchHosts(inv, 'nosuch')).toThrow(/names no group or host/);
  });
});

describe('inventory errors name the file, the path, what was expected and what was found', () => {
  const cases: [string, RegExp][] = [
    ['bad-yaml', /hosts\.yaml:\d+: expected valid YAML/],
    ['dup-host', /hosts\.yaml:3: expected each key once in a map .*found "h1" defined twice/],
    ['bad-port', /hosts\.yaml:4 at hosts\.h1\.port: expected a value that must be <= 65535, found number 70000/],
    ['unknown-group-member', /at groups\.g\.hosts\.0: expected the name of a host defined under hosts, found unknown host "nope"/],
    ['unknown-key', /at hosts\.h1\.adress: expected one of the keys .*address.*found unknown key "adress"/],
    ['jump-loop', /at hosts\.h1\.jump: expected a jump chain that ends, found the loop h1 → h2 → h1/],
    ['bad-vars-file', /group_vars\/nosuchgroup\.yaml: expected the name of a group in hosts\.yaml .*found unknown group "nosuchgroup"/],
  ];
  test.each(cases)('%s', (name, message) => {
    let err: unknown;
    try {
      loadInventory(fixture(name));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });
});
