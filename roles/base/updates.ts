// Security updates (seed 000 "Drand Machines": "Ensure operating system is up-to-date with latest
// security patches"): unattended-upgrades configured for the security archive only, and what is
// pending from it part of convergence (planned, installed by apply) unless held for a window.
import * as r from '../../src/resources/index.js';

export interface UpdateVars {
  security_updates: 'apply' | 'hold';
  scheduled_restarts: string[];
}

export function updateResources(template: (name: string, data: object) => string, v: UpdateVars): r.Resource[] {
  return [
    r.apt({ name: 'unattended-upgrades' }),
    r.file({ path: '/etc/apt/apt.conf.d/20auto-upgrades', content: template('20auto-upgrades', {}), validate: 'apt-config -c %s dump >/dev/null' }),
    r.file({
      path: '/etc/apt/apt.conf.d/52provision-unattended-upgrades',
      content: template('52provision-unattended-upgrades', {}),
      validate: 'apt-config -c %s dump >/dev/null',
    }),
    r.securityUpdates({
      label: 'Debian-Security',
      scheduledRestart: v.scheduled_restarts,
      ...(v.security_updates === 'hold'
        ? { skipIf: () => 'security updates held (base.security_updates: hold): nothing pending from the security archive is installed until it is set to apply' }
        : {}),
    }),
  ];
}
