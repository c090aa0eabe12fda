// The base role on a lab host booted as a virtual machine (lab.machine: vm, src/lab/vm.ts): what
// every other e2e file cannot show, because a container shares the machine's kernel and mounts —
// the kernel-wide sysctls set live, auditd recording, AppArmor loaded, modprobe refusing modules,
// the clock service running, and the machine's own layout (/var and /home apart, /tmp and
// /dev/shm without exec). One converge, shared by the tests; a no-op plan stays one exec.
// The VM is emulated (TCG, see src/lab/vm.ts): slow, so this file keeps to one host and one apply,
// and its image carries the packages base installs (fixture's lab.vm_packages): their installation
// is every container file's business, their effect on a machine of its own this file's.
import os from 'node:os';
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { cliJson, ssh, useFleet } from './helpers.js';
import { KERNEL_SYSCTLS, UNUSED_MODULES } from '../../roles/base/baseline.js';

const inv = 'test/fixtures/e2e/vm';
const playbook = `${inv}/playbook.yaml`;
const knownHosts = path.resolve(inv, 'known_hosts');
const HOST = '10.213.89.11';
const on = (command: string) => ssh(HOST, command, { knownHosts, timeoutSeconds: 30 });
/** run on the host and insist it worked */
const must = (command: string): string => {
  const r = on(command);
  expect({ command, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ command, code: 0, stderr: '' });
  return r.stdout;
};

type Host = { host: string; result: string; changes: { id: string }[]; skipped: { id: string; reason: string }[]; execs: number; error?: string };
const run = (cmd: 'plan' | 'apply') => cliJson<{ hosts: Host[] }>([cmd, inv, '--playbook', playbook, '--connect-timeout', '30']);

let firstApply: Host;
let seconds = 0;

useFleet(inv, {
  ready: () => {
    const t0 = Date.now();
    const r = run('apply');
    seconds = Math.round((Date.now() - t0) / 1000);
    firstApply = r.data.hosts[0]!;
    expect(r.data.hosts.map((h) => [h.host, h.result, h.error])).toEqual([['vm-1', 'changed', undefined]]);
  },
  done: () => {
    console.log(`vm-1: first apply of base on the emulated VM took ${seconds} s`);
  },
});

describe('the machine', () => {
  test('is a virtual machine with its own kernel', () => {
    expect(must('systemd-detect-virt --vm').trim()).toBe('qemu');
    expect(on('systemd-detect-virt --container').code).not.toBe(0);
    // Debian's kernel of the release, not the kernel of the machine running the lab
    expect(must('uname -r').trim()).toMatch(/-amd64$/);
    expect(must('uname -r').trim()).not.toBe(os.release());
  });

  test('has /var and /home on their own disks, /tmp and /dev/shm without exec', () => {
    const mounts = must('findmnt -rn -o TARGET,SOURCE,OPTIONS')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const at = (t: string) => mounts.find((m) => m[0] === t) ?? [t, '(not mounted)', ''];
    expect(at('/var')[1]).toBe('/dev/vdb');
    expect(at('/home')[1]).toBe('/dev/vdc');
    for (const t of ['/tmp', '/dev/shm']) expect(at(t)[2]!.split(',')).toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev']));
    // noexec in effect: a copy of a binary in /tmp does not run
    const r = on('cp /bin/true /tmp/e2e-true && /tmp/e2e-true; echo "exit $?"; rm -f /tmp/e2e-true');
    expect(r.stdout).toMatch(/exit 126/);
  });
});

describe('what a container skips, in effect on the VM', () => {
  test('nothing of base was skipped', () => {
    expect(firstApply.skipped).toEqual([]);
  });

  test('every kernel-wide sysctl has its value in the running kernel', () => {
    const keys = Object.keys(KERNEL_SYSCTLS);
    const live = must(keys.map((k) => `cat /proc/sys/${k.replace(/\./g, '/')}`).join('; ')).trim().split('\n');
    expect(Object.fromEntries(keys.map((k, i) => [k, Number(live[i])]))).toEqual(KERNEL_SYSCTLS);
  });

  test('auditd runs with base rules loaded, and records a change to a watched file', () => {
    expect(must('systemctl is-active auditd').trim()).toBe('active');
    const rules = must('auditctl -l');
    expect(rules).toMatch(/-w \/etc\/passwd -p wa -k identity/);
    expect(rules).toMatch(/-w \/etc\/ssh\/sshd_config -p wa -k sshd/);
    // a change to a watched file (-p wa: its attributes too) is an audit event with its key, naming
    // the program (chmod: nothing else of the run changes /etc/group with it; the mode stays)
    must('chmod 0644 /etc/group');
    // --input-logs: with stdin not a terminal (ssh), ausearch would read events from stdin
    const events = must('ausearch --input-logs -k identity -i --start recent -c chmod');
    expect(events).toMatch(/name=\/etc\/group /);
    expect(events).toMatch(/key=identity/);
  });

  test('sshd sessions go through pam_tty_audit, and a login still works', () => {
    expect(must('grep -E "^session required pam_tty_audit.so" /etc/pam.d/sshd').trim()).toBe('session required pam_tty_audit.so enable=*');
    expect(must('echo logged-in').trim()).toBe('logged-in');
  });

  test('AppArmor is enabled in the kernel and its profiles are loaded', () => {
    expect(must('cat /sys/module/apparmor/parameters/enabled').trim()).toBe('Y');
    expect(must('systemctl is-active apparmor').trim()).toBe('active');
    const loaded = Number(must('aa-status --profiled').trim());
    expect(loaded).toBeGreaterThan(0);
  });

  test('modprobe refuses every unused module', () => {
    for (const m of UNUSED_MODULES) {
      const r = on(`modprobe ${m}`);
      expect({ m, code: r.code }).toEqual({ m, code: 1 });
    }
    const loaded = must("cut -d' ' -f1 /proc/modules").split('\n');
    for (const m of UNUSED_MODULES) expect(loaded).not.toContain(m.replace(/-/g, '_'));
  });

  test('the clock service runs', () => {
    expect(must('systemctl is-active systemd-timesyncd').trim()).toBe('active');
  });
});

test('a second plan is empty, in one exec', () => {
  const r = run('plan');
  expect(r.data.hosts.map((h) => [h.host, h.result, h.changes.length, h.execs])).toEqual([['vm-1', 'unchanged', 0, 1]]);
});
