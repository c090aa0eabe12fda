// bastion: the one door to the fleet (seed 000 "SSH Access": "Use a bastion node for SSH access,
// whitelisting operator IPs"; seed 002/004: a jumpbox in front of the producers). Operators get
// accounts with their keys, no sudo, no root, and a TOTP second factor through PAM; SSH is open
// only to the operators' addresses (and, through the base role, to the controller).
import { Type, type Static } from '@sinclair/typebox';
import * as r from '../../src/resources/index.js';
import { defineRole, type HostView, type RoleContext } from '../../src/roles/types.js';
import { BASTION_DROPIN, OPERATORS_GROUP, RELOAD_SSH, SSHD_DROPIN_DIR, sshdEffective, sshdValidate } from '../base/sshd.js';
import { resolveSources, Source } from '../../src/roles/net.js';
import { sh } from '../../src/shell/quote.js';
import { debianPam, TTY_AUDIT_LINE } from '../base/pam.js';

const KEY_PATTERN =
  '^(ssh-ed25519|sk-ssh-ed25519@openssh\\.com|ecdsa-sha2-nistp(256|384|521)|sk-ecdsa-sha2-nistp256@openssh\\.com|ssh-rsa) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$';

const vars = Type.Object(
  {
    operators: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$' }),
          /** public keys, one authorized_keys line each (a hardware key, sk-…, is best: seed 000) */
          keys: Type.Array(Type.String({ pattern: KEY_PATTERN, maxLength: 16384 }), { minItems: 1 }),
          state: Type.Union([Type.Literal('present'), Type.Literal('absent')], { default: 'present' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'operator accounts: key + TOTP, no sudo; state: absent removes the account' },
    ),
    allow_from: Type.Array(Source(), {
      default: [],
      description: 'operator addresses/CIDRs (or VPN endpoints) that may reach SSH on the bastion',
    }),
    pam_accept: Type.Array(Type.String({ pattern: '^[^\\r\\n]+$', maxLength: 512 }), {
      default: [],
      description:
        'PAM rule lines the site accepts in the sshd and su stacks beyond Debian\'s and the roles\' own (e.g. a pam_sss line); any other line there is removed',
    }),
    totp_nullok: Type.Boolean({
      default: false,
      description:
        'let an operator without a TOTP secret in with the key alone (an enrolment window); false: no secret, no login',
    }),
  },
  { additionalProperties: false },
);

type Ctx = Omit<RoleContext<Static<typeof vars>>, 'openings' | 'template'>;

/**
 * Accounts an operator entry must never take over (the user resource would make them login
 * accounts): Debian's own, and every system account a role of the playbook declares (`accounts`).
 */
const DEBIAN_ACCOUNTS = [
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'gnats', 'nobody', 'sshd', 'messagebus', '_apt',
];

function checkOperators(ctx: Ctx): void {
  const seen = new Set<string>();
  for (const op of ctx.vars.operators) {
    if (seen.has(op.name)) throw new Error(`bastion.operators: "${op.name}" is listed twice`);
    seen.add(op.name);
    if (op.name === ctx.loginUser) {
      // The controller's account must stay publickey-only (the lockout guard logs in with it).
      throw new Error(`bastion.operators: "${op.name}" is the controller's login user on ${ctx.host.name}; it cannot be an operator`);
    }
    if (DEBIAN_ACCOUNTS.includes(op.name) || ctx.systemAccounts.includes(op.name) || op.name.startsWith('systemd-')) {
      throw new Error(`bastion.operators: "${op.name}" is a system account name; pick another operator name`);
    }
  }
}

const totpLine = (ctx: Ctx): string => `auth required pam_google_authenticator.so${ctx.vars.totp_nullok ? ' nullok' : ''}`;
const PERMIT_LINE = 'auth required pam_permit.so';
const WHEEL_LINE = 'auth required pam_wheel.so';

const present = (ctx: Ctx) => ctx.vars.operators.filter((o) => o.state === 'present');

/** An address operators come from (the first of allow_from), for sshd -T. */
const operatorAddr = (ctx: { vars: { allow_from: string[] }; inventory: { hosts: HostView[] } }): string =>
  resolveSources(ctx.vars.allow_from, ctx.inventory.hosts, 'bastion.allow_from')[0]?.text.split('/')[0] ?? '127.0.0.1';

export default defineRole({
  name: 'bastion',
  description: 'jump host for operators: key + TOTP (PAM), no sudo or root, operator-IP allowlist',
  vars,
  // converged and checked on both in the lab (docs/releases.md)
  releases: ['debian-12', 'debian-13'],
  // no sizing of its own: sshd needs nothing beyond the base role's minimums
  placement: {
    // DESIGN "Placement": a bastion carries no node role (seed 000: nodes isolated, bastion separate)
    notWith: ['drand-node', 'drand-http-relay'],
  },
  accounts: [OPERATORS_GROUP],

  openings(ctx) {
    // seed 000 "SSH Access": whitelist operator IPs or VPN endpoints. The controller's own opening
    // comes from the base role (controller addresses).
    return [{ port: 22, proto: 'tcp', from: ctx.vars.allow_from, comment: 'ssh from operators (bastion.allow_from)' }];
  },

  resources(ctx) {
    checkOperators(ctx);
    resolveSources(ctx.vars.allow_from, ctx.inventory.hosts, 'bastion.allow_from'); // fail early on a bad entry
    const res: r.Resource[] = [r.apt({ name: 'libpam-google-authenticator' }), r.group({ name: OPERATORS_GROUP })];

    for (const op of ctx.vars.operators) {
      if (op.state === 'absent') {
        res.push(r.user({ name: op.name, state: 'absent' }));
        continue;
      }
      const home = `/home/${op.name}`;
      res.push(
        // exactly one supplementary group: never sudo, adm or root (seed 000: "Disable sudo and root
        // access on bastion nodes") — the user resource removes any other membership
        r.user({ name: op.name, home, shell: '/bin/bash', groups: [OPERATORS_GROUP], createHome: true }),
        r.directory({ path: `${home}/.ssh`, owner: op.name, group: op.name, mode: '0700' }),
        r.file({
          path: `${home}/.ssh/authorized_keys`,
          content: `# Managed by provision (role bastion): keys of ${op.name}; edits are reverted on the next apply.\n${op.keys.join('\n')}\n`,
          owner: op.name,
          group: op.name,
          mode: '0600',
        }),
      );
    }

    res.push(
      r.file({
        path: `${SSHD_DROPIN_DIR}/${BASTION_DROPIN}`,
        content: ctx.template('sshd-bastion.conf', { host: ctx.host.name, group: OPERATORS_GROUP, loginUser: ctx.loginUser }),
        mode: '0600',
        validate: sshdValidate(),
        guard: true,
        notify: [RELOAD_SSH],
      }),
      // PAM for sshd's keyboard-interactive step: the TOTP code instead of a password. Only operators
      // reach it (base: AuthenticationMethods publickey for everyone else), so removing common-auth
      // here takes nothing from key logins. All PAM edits are guarded by a fresh login test.
      r.line({
        path: '/etc/pam.d/sshd',
        line: '#@include common-auth (disabled by provision, role bastion: operators use key + TOTP, never a password)',
        match: '^#?[[:space:]]*@include[[:space:]]+common-auth',
        guard: true,
      }),
      r.line({
        path: '/etc/pam.d/sshd',
        line: totpLine(ctx),
        match: '^#?[[:space:]]*auth[[:space:]]+[^[:space:]]+[[:space:]]+pam_google_authenticator\\.so',
        guard: true,
      }),
      // nullok makes the module return "ignore" for an operator without a secret; a stack of nothing
      // but "ignore" fails, so the enrolment window needs pam_permit after it (and only then).
      r.line({
        path: '/etc/pam.d/sshd',
        line: PERMIT_LINE,
        state: ctx.vars.totp_nullok ? 'present' : 'absent',
        guard: true,
      }),
      // `su` only for members of group root (pam_wheel's default without a wheel group): an operator
      // who learns the root password still cannot become root (seed 000: no root access on bastions).
      r.line({
        path: '/etc/pam.d/su',
        line: WHEEL_LINE,
        match: '^#?[[:space:]]*auth[[:space:]]+required[[:space:]]+pam_wheel\\.so[[:space:]]*$',
        guard: true,
      }),
    );
    // In effect: the stacks sshd and su run, with the files they include. A line neither Debian's,
    // nor a role's, nor accepted by the site (e.g. `auth sufficient pam_permit.so`, which skips the
    // TOTP code) is removed; the file as it was goes to the quarantine folder. Guarded.
    const debian = debianPam(ctx.release);
    const accept = (file: string, own: string[]) => [...debian[file]!, ...own, ...ctx.vars.pam_accept];
    const common = Object.fromEntries(Object.keys(debian).filter((f) => f.startsWith('common-')).map((f) => [f, accept(f, [])]));
    const acceptedAs = `Debian ${ctx.release.replace('debian-', '')}'s, a role's or in bastion.pam_accept`;
    res.push(
      r.pamStack({
        service: 'sshd',
        accept: { ...common, sshd: accept('sshd', [totpLine(ctx), ...(ctx.vars.totp_nullok ? [PERMIT_LINE] : []), TTY_AUDIT_LINE]) },
        acceptedAs,
        guard: true,
      }),
      r.pamStack({ service: 'su', accept: { ...common, su: accept('su', [WHEEL_LINE]) }, acceptedAs, guard: true }),
    );
    // In effect: what sshd itself computes for an operator's login (after base's drop-in, this one,
    // and whatever else is in sshd_config.d — base quarantines files provision did not write).
    const first = present(ctx)[0];
    if (first) {
      res.push(
        r.sshdEffective({
          user: first.name,
          addr: operatorAddr(ctx),
          expect: { authenticationmethods: 'publickey,keyboard-interactive', kbdinteractiveauthentication: 'yes', passwordauthentication: 'no' },
        }),
      );
    }
    return res;
  },

  // Operators' TOTP secrets: without them a rebuilt bastion locks every operator out (each would
  // have to enrol again, in person). pam_google_authenticator rewrites the file by rename, so the
  // file on disk is always whole: nothing to stop.
  state(ctx) {
    const ops = ctx.vars.operators.filter((o) => o.state === 'present');
    if (!ops.length) return null;
    return {
      paths: ops.map((o) => `/home/${o.name}/.google_authenticator`),
      consistency: { none: 'pam_google_authenticator replaces the file by rename: it is always whole on disk' },
      services: [],
    };
  },

  health(ctx) {
    const ops = present(ctx);
    const from = operatorAddr(ctx);
    const checks = [
      {
        name: 'sshd asks operators for the TOTP code',
        script: `grep -Eq '^auth[[:space:]]+required[[:space:]]+pam_google_authenticator\\.so' /etc/pam.d/sshd`,
      },
    ];
    const first = ops[0];
    if (first) {
      checks.push({
        name: `operator ${first.name} needs key + TOTP`,
        script: `${sshdEffective(first.name, from)} | grep -qx 'authenticationmethods publickey,keyboard-interactive'`,
      });
    }
    for (const op of ops) {
      checks.push({ name: `operator ${op.name} has no sudo/adm/root group`, script: `! id -nG ${sh(op.name)} | grep -qwE 'sudo|adm|root|wheel'` });
    }
    return checks;
  },
});
