// The files that make one host out of the shared base, rendered as text (pure, so tests can read them).
import type { LabNetwork } from './network.js';
import type { LabFleet, LabHostRef } from './types.js';

export interface HostFile {
  /** path inside the host, absolute */
  path: string;
  content: string;
  mode: number;
  /** an account of the host (its home is made with it); root when absent */
  owner?: string;
}

/**
 * The login user's passwordless sudo, written once when the lab makes the account — what a cloud
 * image's first boot leaves (cf. cloud-init's 90-cloud-init-users). The base role replaces it with
 * its own file and quarantines this one; a later `lab up` does not bring it back.
 */
export const labSudoers = (user: string): HostFile => ({
  path: '/etc/sudoers.d/90-provision-lab',
  content: `# provision lab: the login user becomes root without a password\n${user} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
  mode: 0o440,
});

/** The host's login user when it is not root: the lab makes it a sudo user. */
export const sudoUser = (host: LabHostRef): string | undefined => (host.user && host.user !== 'root' ? host.user : undefined);

/** A VM's MAC address: QEMU's locally administered prefix and the host's IPv4 address. */
export function vmMac(address: string): string {
  return ['52', '54', ...address.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/**
 * A VM's file systems (vm.ts makes one disk per line): the layout CIS Debian 12 1.1.2 asks of a
 * server's machine — /var and /home apart, /tmp and /dev/shm without exec, setuid or device files.
 * A machine's layout, made when the machine is made (an installer's or image's work, not a role's).
 */
export const VM_FSTAB = [
  '# provision lab VM: one disk per file system (CIS Debian 12 1.1.2.x)',
  '/dev/vda\t/\text4\terrors=remount-ro\t0 1',
  '/dev/vdb\t/var\text4\tnodev,nosuid\t0 2',
  '/dev/vdc\t/home\text4\tnodev,nosuid\t0 2',
  'tmpfs\t/tmp\ttmpfs\tnodev,nosuid,noexec,mode=1777\t0 0',
  'tmpfs\t/dev/shm\ttmpfs\tnodev,nosuid,noexec\t0 0',
  '',
].join('\n');

export function renderHostFiles(fleet: LabFleet, host: LabHostRef, net: LabNetwork, labPublicKey: string): HostFile[] {
  const peers = fleet.hosts.filter((h) => h.name !== host.name).map((h) => `${h.address}\t${h.name}`);
  // No DNS server is reachable from the lab (nothing but the mirror is routed): names the hosts need
  // (themselves, their peers, the mirror) are in /etc/hosts; the gateway as resolver fails fast.
  const hosts = [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${host.name}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${host.address}\t${host.name}`,
    ...peers,
    ...net.mirrors.map((m) => `${m.address}\t${m.host}`),
    '',
  ];
  const vm = fleet.machine === 'vm';
  return [
    { path: '/etc/hostname', content: `${host.name}\n`, mode: 0o644 },
    { path: '/etc/hosts', content: hosts.join('\n'), mode: 0o644 },
    { path: '/etc/resolv.conf', content: `nameserver ${net.gateway}\n`, mode: 0o644 },
    {
      // "10-" sorts before nspawn's default 80-container-host0.network (DHCP), so this one wins.
      // A container's link is nspawn's host0; a VM's is the one with the MAC the lab gave it.
      path: '/etc/systemd/network/10-host0.network',
      content: ['[Match]', vm ? `MACAddress=${vmMac(host.address)}` : 'Name=host0', '', '[Network]', `Address=${host.address}/${net.prefix}`, `Gateway=${net.gateway}`, `DNS=${net.gateway}`, 'LinkLocalAddressing=no', 'IPv6AcceptRA=no', ''].join('\n'),
      mode: 0o644,
    },
    {
      path: '/etc/apt/apt.conf.d/01provision-lab-proxy',
      content: `// provision lab: apt goes through the apt-cacher-ng on the lab gateway\nAcquire::http::Proxy "${net.aptProxy}";\n`,
      mode: 0o644,
    },
    ...(vm ? [{ path: '/etc/fstab', content: VM_FSTAB, mode: 0o644 }] : []),
    { path: '/root/.ssh/authorized_keys', content: `${labPublicKey}\n`, mode: 0o600 },
    ...(sudoUser(host)
      ? [
{ path: `/home/${host.user}/.ssh/authorized_keys`, content: `${labPublicKey}\n`, mode: 0o600, owner: host.user }]
      : []),
  ];
}
