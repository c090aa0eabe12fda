import { describe, expect, test } from '@jest/globals';
import { rootShellCommand, scriptStdin, sudoRefusal } from '../../../src/transport/exec.js';

describe('rootShellCommand', () => {
  test('root runs sh directly; others through non-interactive sudo', () => {
    expect(rootShellCommand('root')).toBe('sh -s');
    expect(rootShellCommand('deploy')).toBe('sudo -n sh -s');
  });
});

describe('sudoRefusal', () => {
  test('password required', () => {
    expect(sudoRefusal({ code: 1, stdout: '', stderr: 'sudo: a password is required\n' })).toBe('sudo: a password is required');
  });
  test('sudo missing', () => {
    expect(sudoRefusal({ code: 127, stdout: '', stderr: 'sh: 1: sudo: not found\n' })).toBe('sudo is not installed');
  });
  test('a failing script is not a sudo refusal', () => {
    expect(sudoRefusal({ code: 1, stdout: 'x', stderr: 'sudo: a password is required' })).toBeNull();
    expect(sudoRefusal({ code: 1, stdout: '', stderr: 'grep: /etc/x: No such file\n' })).toBeNull();
    expect(sudoRefusal({ code: 2, stdout: '', stderr: 'sudo: whatever' })).toBeNull();
  });
});

describe('scriptStdin', () => {
  test('wraps the script in a brace group reading /dev/null, so it is parsed whole and cannot be eaten', () => {
    expect(scriptStdin('echo hi')).toBe('{ :\necho hi\n} </dev/null\n');
    expect(scriptStdin('')).toBe('{ :\n\n} </dev/null\n');
  });
});
