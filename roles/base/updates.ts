// Security updates (seed 000 "Drand Machines": "Ensure operating system is up-to-date with latest
// security patches"): unattended-upgrades configured for the security archive only.
import * as r from '../../src/resources/index.js';

export function updateResources(template: (name: string, data: object) => string): r.Resource[] {
  return [
    r.apt({ name: 'unattended-upgrades' }),
    r.file({ path: '/etc/apt/apt.conf.d/20auto-upgrades', content: template('20auto-upgrades', {}), validate: 'apt-config -c %s dump >/dev/null' }),
    r.file({
      path: '/etc/apt/apt.conf.d/52provision-unattended-upgrades',
      content: template('52provision-unattended-upgrades', {}),
      validate: 'apt-config -c %s dump >/dev/null',
    }),
  ];
}
