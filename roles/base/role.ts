// base: what every host gets. Hardened sshd, security updates, a default-deny firewall built from
// the openings of all roles of the host, audit of sessions, time sync, machine metrics and logs
// shipped off the host. Sources: seed 000 (drand/League of Entropy ops guide: "Security
// Recommendations", "Monitoring Recommendations") and seed 003 (node security basics).
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole, type HostView, type Opening, type RoleContext } from '../../src/roles/types.js';
import { isContainer, type Facts } from '../../src/facts/types.js';
import { resolveSources, Source as source, Port, splitHostPort, hostByName, parseCidr } from '../../src/roles/net.js';
import { renderRules } from './firewall.js';
import { updateResources } from './updates.js';
import { baselineResources, DEFAULT_BANNER } from './baseline.js';
import { sh } from '../../src/shell/quote.js';
import {
  BASTION_DROPIN, OPERATORS_GROUP, RELOAD_SSH, reloadSsh, SSH_USERS_GROUP, SSHD_DROPIN_DIR, sshCryptoLines, sshdEffective, sshdRequires, sshdSettings, sshdValidate,
} from './sshd.js';

const Source = source('an IP address, a CIDR or an inventory host name');

const vars = Type.Object(
  {
    monitoring: Type.Array(Source, {
      default: [],
      description: 'who may scrape metrics (node exporter, and the metrics of other roles that use the @monitoring source)',
    }),
    log_host: Type.Union([Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$' }), Type.Null()], {
      default: null,
      description: 'host:port receiving every log line (rsyslog forwarding); the host may be an inventory host name; null: no forwarding',
    }),
    log_protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { default: 'tcp' }),
    security_updates: Type.Union([Type.Literal('apply'), Type.Literal('hold')], {
      default: 'apply',
      description: 'apply: pending updates from the security archive are part of convergence (planned, installed by apply); hold: left pending for a maintenance window, the plan says they are held',
    }),
    scheduled_restarts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9@._:-]+\\.service$' }), {
      default: [],
      description: 'services never restarted by apply after a security update replaced their libraries: listed "restart needed" for a scheduled window (e.g. drand.service on a beacon node)',
    }),
    banner: Type.String({
      minLength: 20,
      maxLength: 2000,
      default: DEFAULT_BANNER,
      description: 'legal banner shown before login (sshd Banner /etc/issue.net) and on the console (/etc/issue): who may use the host, that it is monitored; no OS or version',
    }),
    node_exporter_port: Port(9100),
    ssh_from: Type.Union([Type.Array(Source, { minItems: 1 }), Type.Null()], {
      default: null,
      description:
        'who may open SSH to this host; null: its jump host (inventory `jump`) or, for a host without one, the controller addresses',
    }),
    extra_openings: Type.Array(
      Type.Object(
        {
          port: Port(),
          proto: Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { default: 'tcp' }),
          from: Type.Union([Type.Array(Source), Type.Literal('any')]),
          comment: Type.String({ minLength: 1, maxLength: 100 }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'more firewall openings for this host (anything not declared by a role)' },
    ),
  },
  { additionalProperties: false },
);

type Ctx = Omit<RoleContext<Static<typeof vars>>, 'openings' | 'template'>;

const inContainer = (why: string) => (f: Facts): string | null => (isContainer(f) ? `${why} (container: ${f.container})` : null);

/** Who may open SSH to the host, as written (names, addresses) — shared by the firewall and sshd. */
function sshSources(ctx: Ctx): { from: string[]; why: string } {
  if (ctx.vars.ssh_from) return { from: ctx.vars.ssh_from, why: 'base.ssh_from' };
  if (ctx.host.jump) {
    const jump = hostByName(ctx.inventory.hosts, ctx.host.jump);
    if (!jump) throw new Error(`host ${ctx.host.name}: its jump host "${ctx.host.jump}" is not in the inventory`);
    return { from: [jump.name], why: `its jump host ${jump.name}` };
  }
  return { from: [...ctx.controllerAddresses], why: 'the controller' };
}

/** A host other hosts jump through (ProxyJump needs TCP forwarding on it). */
const isJumpHost = (ctx: Ctx): boolean =>
  ctx.host.roles.includes('bastion') || ctx.inventory.hosts.some((h: HostView) => h.jump === ctx.host.name);

const ACCOUNT = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
/** base's sudoers file for a login user other than root (no dot: sudo skips names with one) */
const LOGIN_SUDOERS = '10-provision-login';

/** The address the controller's connections come from (its jump host, or the controller itself). */
const loginAddr = (ctx: Ctx): string =>
  resolveSources(sshSources(ctx).from, ctx.inventory.hosts, 'base: ssh sources')[0]?.text.split('/')[0] ?? '127.0.0.1';

export default defineRole({
  name: 'base',
  // made by Debian's prometheus-node-exporter package, which base installs; base's SSH login group
  accounts: ['prometheus', SSH_USERS_GROUP],
  description: 'every host: hardened sshd, security updates, default-deny firewall, audit, time sync, metrics, log shipping',
  vars,
  // converged and checked on both in the lab (docs/releases.md)
  releases: ['debian-12', 'debian-13'],
  // provision's own minimums for a Debian 12 server with these services (the Debian installation
  // guide asks for 512 MB RAM and ~2–10 GB disk without a desktop; rsyslog's disk queue, audit logs
  // and apt caches need headroom). 0.9 GiB / 7 GiB: what a "1 GB / 8 GB" machine reports.
  sizing: {
    cpus: 1,
    memoryGiB: 0.9,
    diskGiB: 7,
    diskPath: '/',
    source: 'provision base role: 1 CPU, 1 GB memory, 8 GB disk (Debian 12 server minimums plus room for log queue, audit logs and apt)',
  },

  openings(ctx) {
    const ssh = sshSources(ctx);
    const list: Opening[] = [
      // seed 000 "SSH Access": SSH through a bastion; nodes never reachable from the internet
      { port: 22, proto: 'tcp', from: ssh.from, comment: `ssh from ${ssh.why}` },
      // seed 000 "Metrics": machine metrics, reachable by monitoring only (DESIGN "Security")
      { port: ctx.vars.node_exporter_port, proto: 'tcp', from: ctx.vars.monitoring, comment: 'node exporter from base.monitoring' },
    ];
    for (const o of ctx.vars.extra_openings) list.push({ port: o.port, proto: o.proto, from: o.from, comment: o.comment });
    return list;
  },

  resources(ctx) {
    const v = ctx.vars;
    const hosts = ctx.inventory.hosts;
    if (!ACCOUNT.test(ctx.loginUser)) throw new Error(`host ${ctx.host.name}: login user "${ctx.loginUser}" is not a valid account name`);
    const ssh = sshSources(ctx);
    if (ssh.from.length === 0) {
      throw new Error(
        `host ${ctx.host.name} has no jump host and no controller address is known: the firewall would shut SSH for the controller; ` +
          'set base.ssh_from for this host or give the controller addresses',
      );
    }
    const sshFrom = resolveSources(ssh.from, hosts, `base: ssh sources of ${ctx.host.name}`);
    const monitoring = resolveSources(v.monitoring, hosts, 'base.monitoring').map((c) => c.text);
    const address = parseCidr(ctx.host.address);
    if (!address) throw new Error(`host ${ctx.host.name}: address "${ctx.host.address}" is not an IP address`);
    const listenHost = address.family === 6 ? `[${address.text}]` : address.text;
    const jumpHost = isJumpHost(ctx);

    const res: r.Resource[] = [];

    // --- sshd (seed 000 "SSH Access"; seed 003 "Securing SSH logins") --------------------------
    const root = ctx.loginUser === 'root';
    const bastion = ctx.host.roles.includes('bastion');
    // Who may log in at all (CIS 5.1.4): the controller's account joins ssh-users BEFORE the drop-in
    // that names the group is reloaded (resource order); that drop-in is guarded by the login test.
    // On a bastion its operators' own group is allowed too: they are in it from the moment they exist.
    const allowGroups = [SSH_USERS_GROUP, ...(bastion ? [OPERATORS_GROUP] : [])];
    res.push(r.group({ name: SSH_USERS_GROUP, system: true, members: [ctx.loginUser] }));
    const sshdConf = ctx.template('sshd.conf', {
      host: ctx.host.name,
      permitRootLogin: root ? 'prohibit-password' : 'no',
      rootLoginWhy: root
        ? 'the controller logs in as root (lab): with a key only, never a password'
        : `the controller logs in as ${ctx.loginUser} and uses sudo: nobody logs in as root`,
      tcpForwarding: jumpHost ? 'local' : 'no',
      forwardingWhy: jumpHost
        ? 'a jump host: ProxyJump needs local forwarding (direct-tcpip); remote forwarding stays off'
        : 'not a jump host: no forwarding of any kind',
      loginUser: ctx.loginUser,
      allowGroups: allowGroups.join(' '),
      allowWhy: bastion
        ? `the controller's account (${ctx.loginUser}, member of ${SSH_USERS_GROUP}) and the bastion's operators (group ${OPERATORS_GROUP})`
        : `the controller's account (${ctx.loginUser}, member of ${SSH_USERS_GROUP})`,
      crypto: sshCryptoLines(ctx.release),
      loginFrom: [...sshFrom.map((c) => `!${c.text}`), '*'].join(','),
    });
    const settings = sshdSettings(sshdConf);
    res.push(
      r.file({ path: `${SSHD_DROPIN_DIR}/10-provision.conf`, content: sshdConf, mode: '0600', validate: sshdValidate(), guard: true, notify: [RELOAD_SSH] }),
      // In effect: sshd reads every *.conf there, the first value wins — a file provision did not
      // write is moved aside (guarded: the login test follows, a failure puts it back).
      r.confDir({
        path: SSHD_DROPIN_DIR,
        reads: 'conf',
        own: ['10-provision.conf', ...(bastion ? [BASTION_DROPIN] : [])],
        check: '/usr/sbin/sshd -t',
        requires: sshdRequires(settings),
        label: 'sshd_config.d',
        guard: true,
        notify: [RELOAD_SSH],
      }),
      // ...and what sshd will do for the controller's next login, as sshd itself computes it
      r.sshdEffective({ user: ctx.loginUser, addr: loginAddr(ctx), expect: settings }),
    );

    // --- sudo: the controller's login user, and nobody else's grant (seed 003 "least privilege") --
    if (!root) {
      res.push(
        r.file({
          path: `/etc/sudoers.d/${LOGIN_SUDOERS}`,
          content: `# Managed by provision (role base) for ${ctx.host.name}: the controller's account becomes root without a password.\n${ctx.loginUser} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
          mode: '0440',
          validate: 'visudo -c -q -f %s',
        }),
      );
    }
    res.push(
      r.confDir({
        path: '/etc/sudoers.d',
        reads: 'sudoers',
        own: root ? [] : [LOGIN_SUDOERS],
        // Debian's README there is comments only
        tolerate: ['README'],
        // the whole policy still parses, and the controller still becomes root
        check: root ? 'visudo -c -q' : `visudo -c -q && sudo -n -l -U ${sh(ctx.loginUser)} -- /bin/sh >/dev/null`,
        label: 'sudoers.d',
      }),
    );

    // --- firewall: default deny, the openings of every role (seed 000 "Firewall Configuration") ---
    const rules = renderRules(ctx.openings, hosts, monitoring);
    res.push(
      r.apt({ name: 'nftables' }),
      r.nftables({ ruleset: ctx.template('nftables.conf', { host: ctx.host.name, rules }) }),
      r.service({ name: 'nftables', enabled: true }),
    );

    // --- security updates (seed 000 "Drand Machines": OS up to date with security patches) -------
    res.push(...updateResources(ctx.template, v));

    // --- the rest of the hardened baseline (banner, core dumps, umask, accounting, integrity, sysctls)
    res.push(...baselineResources(v.banner));

    // --- session audit (seed 000 "Logs": "Enable pam_tty_audit for logging user actions") --------
    const noAudit = inContainer('auditd cannot run in a container (no audit netlink socket)');
    res.push(
      r.apt({ name: 'auditd', skipIf: noAudit }),
      r.file({ path: '/etc/audit/rules.d/50-provision.rules', content: ctx.template('audit.rules', {}), mode: '0640', notify: ['load audit rules'], skipIf: noAudit }),
      r.service({ name: 'auditd', enabled: true, running: true, skipIf: noAudit }),
      // A PAM change: guarded (fresh login test). In a container the audit netlink is refused and
      // this line would make every SSH session fail, so it is skipped there — never on real hosts.
      r.line({
        path: '/etc/pam.d/sshd',
        line: 'session required pam_tty_audit.so enable=*',
        match: '^#?[[:space:]]*session[[:space:]]+[a-z]+[[:space:]]+pam_tty_audit\\.so',
        guard: true,
        skipIf: inContainer('pam_tty_audit makes every SSH session fail in a container (audit is not permitted)'),
      }),
    );

    // --- mandatory access control (CIS Debian 12 1.3.1.1–1.3.1.2): Debian's kernel enables AppArmor;
    // the package loads its profiles at boot. A container's confinement is its machine's.
    const noLsm = inContainer("AppArmor is the machine's: a container's confinement is set by the machine that runs it");
    res.push(
      r.apt({ name: 'apparmor', skipIf: noLsm }),
      r.service({ name: 'apparmor', enabled: true, running: true, skipIf: noLsm }),
    );

    // --- time sync (logs and drand rounds need a right clock) -------------------------------------
    res.push(
      r.apt({ name: 'systemd-timesyncd' }),
      r.service({
        name: 'systemd-timesyncd',
        enabled: true,
        running: true,
        skipIf: inContainer('a container cannot set the clock; it uses the clock of the machine it runs on'),
      }),
    );

    // --- machine metrics, monitoring only (seed 000 "Metrics") ---------------------------------
    const exporterDir = '/etc/systemd/system/prometheus-node-exporter.service.d';
    res.push(
      r.apt({ name: 'prometheus-node-exporter' }),
      r.directory({ path: exporterDir, owner: 'root', group: 'root', mode: '0755' }),
      r.file({
        path: `${exporterDir}/10-provision.conf`,
        content: ctx.template('node-exporter.conf', { listen: `${listenHost}:${v.node_exporter_port}` }),
        notify: ['restart node exporter'],
      }),
      r.service({ name: 'prometheus-node-exporter', enabled: true, running: true }),
    );

    // --- logs shipped off the host (seed 000 "Logs": collect and ship logs externally) ------------
    const forwardPath = '/etc/rsyslog.d/90-provision-forward.conf';
    res.push(r.apt({ name: 'rsyslog' }));
    const logTo = v.log_host ? splitHostPort(v.log_host, 'base.log_host') : null;
    const logHost = logTo ? (hostByName(hosts, logTo.host) ?? hosts.find((h) => h.address === logTo.host)) : undefined;
    // The log host itself does not forward to itself (a loop once it receives syslog).
    if (logTo && logHost?.name !== ctx.host.name) {
      const { host, port } = logTo;
      const target = logHost ? logHost.address : host;
      res.push(
        r.file({ path: forwardPath, content: ctx.template('rsyslog-forward.conf', { target, port, protocol: v.log_protocol }), notify: ['restart rsyslog'] }),
      );
    } else {
      res.push(r.file({ path: forwardPath, state: 'absent', notify: ['restart rsyslog'] }));
    }
    res.push(r.service({ name: 'rsyslog', enabled: true, running: true }));
    return res;
  },

  handlers() {
    return {
      [RELOAD_SSH]: reloadSsh,
      'restart node exporter': r.restartHandler('prometheus-node-exporter', { daemonReload: true }),
      'restart rsyslog': r.restartHandler('rsyslog'),
      'load audit rules': { script: 'augenrules --load', effect: 'the kernel audit rules are reloaded (augenrules --load)' },
    };
  },

  health(ctx) {
    const from = loginAddr(ctx);
    const checks = [
      { name: 'sshd configuration parses', script: '/usr/sbin/sshd -t' },
      {
        // what sshd will do for the controller's next login: key only, and its keys are read
        name: `${ctx.loginUser} keeps key-only login from ${from}`,
        script:
          `out=$(${sshdEffective(ctx.loginUser, from)}) && printf '%s\\n' "$out" | grep -qx 'authenticationmethods publickey' && ` +
          `! printf '%s\\n' "$out" | grep -qx 'authorizedkeysfile none'`,
      },
      { name: 'firewall loaded (default deny)', script: `nft list chain inet filter input | grep -q 'policy drop'` },
      { name: 'node exporter listening', script: `ss -Hltn 'sport = :${ctx.vars.node_exporter_port}' | grep -q .`, timeoutSeconds: 30 },
    ];
    return checks;
  },
});
