import { describe, test, expect } from '@jest/globals';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debootstrapMirror, mirrorEndpoints, parseDeb822Sources, parseOneLineSources, readAptSources, renderHostSources } from '../../../src/lab/mirror.js';

// This machine's kind of file: a snapshot comment, two paragraphs.
const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources parsing', () => {
  test('deb822: URIs, suites, comments inside a paragraph', () => {
    const s = parseDeb822Sources(DEBIAN_SOURCES);
    expect(s).toHaveLength(2);
    expect(s[0]).toEqual({ types: ['deb'], uris: ['http://deb.debian.org/debian'], suites: ['bookworm', 'bookworm-updates'], components: ['main'] });
    expect(s[1]!.uris).toEqual(['http://deb.debian.org/debian-security']);
  });

  test('deb822: disabled paragraphs are skipped, continuation lines joined', () => {
    const text = `Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb deb-src
URIs: https://mirror.example.org/debian
  http://second.example.org:8080/debian
Suites: bookworm
Components: main contrib
`;
    const s = parseDeb822Sources(text);
    expect(s).toHaveLength(1);
    expect(s[0]!.uris).toEqual(['https://mirror.example.org/debian', 'http://second.example.org:8080/debian']);
    expect(s[0]!.types).toEqual(['deb', 'deb-src']);
  });

  test('one-line: options in brackets, comments, deb-src', () => {
    const s = parseOneLineSources(`# a comment
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.de.debian.org/debian bookworm main contrib
deb-src http://ftp.de.debian.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main # trailing
`);
    expect(s.map((x) => [x.types[0], x.uris[0], x.suites[0]])).toEqual([
      ['deb', 'http://ftp.de.debian.org/debian', 'bookworm'],
      ['deb-src', 'http://ftp.de.debian.org/debian', 'bookworm'],
      ['deb', 'http://security.debian.org/debian-security', 'bookworm-security'],
    ]);
  });

  test('debootstrap mirror: the URI serving plain bookworm, not the security one', () => {
    const s = parseDeb822Sources(DEBIAN_SOURCES).reverse();
    expect(debootstrapMirror(s)).toBe('http://deb.debian.org/debian');
  });

  test('no bookworm mirror is a clear error', () => {
    expect(() => debootstrapMirror(parseOneLineSources('deb http://archive.ubuntu.com/ubuntu jammy main\n'))).toThrow(/no Debian mirror \(a bookworm or trixie suite\)/);
  });

  test('mirror endpoints: one host, 80 and 443 unless the URI names a port; third-party repos ignored', () => {
    const s = [
      ...parseDeb822Sources(DEBIAN_SOURCES),
      ...parseOneLineSources('deb http://apt.example.com:8080/debian bookworm main\ndeb https://download.docker.com/linux/debian jammy stable\n'),
    ];
    expect(mirrorEndpoints(s)).toEqual([
      { host: 'deb.debian.org', ports: [80, 443] },
      { host: 'apt.example.com', ports: [8080] },
    ]);
  });

  test('hosts get the bookworm deb sources only, without machine-specific options', () => {
    const text = renderHostSources(parseDeb822Sources(DEBIAN_SOURCES));
    expect(text).toContain('URIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main');
    expect(text).toContain('Suites: bookworm-security');
    expect(text).not.toContain('Signed-By');
  });

  test('a Debian 13 host gets the same mirrors with the trixie suites; debootstrap from the plain one', () => {
    const s = parseDeb822Sources(DEBIAN_SOURCES);
    const text = renderHostSources(s, 'debian-13');
    expect(text).toContain('URIs: http://deb.debian.org/debian\nSuites: trixie trixie-updates\nComponents: main');
    expect(text).toContain('Suites: trixie-security');
    expect(text).not.toContain('bookworm');
    expect(debootstrapMirror(s, 'debian-13')).toBe('http://deb.debian.org/debian');
    // the same mirrors, whichever release: one firewall allowance serves both
    expect(mirrorEndpoints(s)).toEqual([{ host: 'deb.debian.org', ports: [80, 443] }]);
  });

  test('readAptSources reads sources.list and sources.list.d/*.sources|*.list', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-apt-'));
    try {
      mkdirSync(path.join(dir, 'sources.list.d'));
      writeFileSync(path.join(dir, 'sources.list.d', 'debian.sources'), DEBIAN_SOURCES);
      writeFileSync(path.join(dir, 'sources.list.d', 'extra.list'), 'deb http://extra.example/debian bookworm main\n');
      writeFileSync(path.join(dir, 'sources.list.d', 'ignored.save'), 'deb http://nope.example/debian bookworm main\n');
      writeFileSync(path.join(dir, 'sources.list'), 'deb http://first.example/debian bookworm main\n');
      const s = await readAptSources(dir);
      expect(s.map((x) => x.uris[0])).toEqual(['http://first.example/debian', 'http://deb.debian.org/debian', 'http://deb.debian.org/debian-security', 'http://extra.example/debian']);
      expect(debootstrapMirror(s)).toBe('http://first.example/debian');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
