// Command-line parsing with node's own util.parseArgs: no dependency needed for this surface.
import { parseArgs } from 'node:util';

export const USAGE = `usage: provision <command> [options]

commands:
  check INVENTORY                 validate inventory, playbook and role vars offline (no connection)
  plan INVENTORY                  show what apply would change; exit 0 = nothing, 2 = changes, 1 = error
  apply INVENTORY                 converge the hosts; exit 0 = every host converged, 1 = otherwise, 130 = interrupted
  status INVENTORY                per host: the last apply recorded on it, drift now, pending handlers, lock
  inventory INVENTORY --json      print the resolved inventory (hosts, groups, merged vars)
  secrets show INVENTORY [SCOPE]  list the encrypted vars (values only with --reveal)
  secrets edit INVENTORY SCOPE ROLE.VAR   set one secret var: hidden prompt, or stdin when piped (--delete: remove it)
  secrets encrypt INVENTORY [SCOPE]       SCOPE: encrypt a YAML vars map from stdin into secrets/SCOPE.age;
                                  no SCOPE: re-encrypt every file to secrets/recipients (after adding one)
  snapshot INVENTORY PATTERN      take a snapshot now on these hosts (role snapshot); prints each snapshot id
  rebuild INVENTORY HOST          a lost host's replacement: converge with its stateful services held
                                  stopped, restore its latest snapshot (--snapshot ID), start, verify
  lab up|down|status INVENTORY    run the inventory's hosts as local lab containers
  lab reset [INVENTORY] HOST      wipe one lab host and boot it fresh (a lost machine)

options:
  --playbook FILE     playbook to run (default playbooks/site.yaml)
  --limit PATTERN     only these hosts: group or host names, "a:b", "!x", "&y", "*"
  --tags T1,T2        only plays with one of these tags
  --forks N           hosts worked on in parallel (default 20)
  --out FILE          (plan) save the plan; apply it exactly with apply --plan FILE
  --plan FILE         (apply) apply a saved plan; hosts that drifted since are refused
  --identity FILE     age identity for the inventory's secrets (default $PROVISION_AGE_IDENTITY;
                      a lab inventory: the lab identity)
  --fingerprint FP    (rebuild) the new machine's SSH host key fingerprint (SHA256:…), learnt out of
                      band; without it a changed host key stops the rebuild and is printed
  --snapshot ID       (rebuild) restore this snapshot instead of the latest
  --dry-run           (rebuild) show the snapshot and the sequence; connect only to the snapshot server
  --reveal            (secrets show) print the values, not only their names
  --json              machine-readable output
  -v, --verbose       (plan) list skips and warnings under every host instead of grouping them
  --install-deps      (lab) install missing Debian packages (as root)
  --wipe              (lab down) also delete the hosts' disks and keys
  --connect-timeout S seconds to wait for an SSH handshake (default 10)
  --exec-timeout S    seconds one remote step may take before its host fails (default 600)
  -h, --help          this text
`;

export interface Args {
  command: string;
  positionals: string[];
  playbook?: string;
  limit?: string;
  tags?: string[];
  forks: number;
  out?: string;
  plan?: string;
  identity?: string;
  fingerprint?: string;
  snapshot?: string;
  dryRun: boolean;
  reveal: boolean;
  delete: boolean;
  json: boolean;
  verbose: boolean;
  installDeps: boolean;
  wipe: boolean;
  connectTimeoutMs: number;
  execTimeoutMs: number;
  help: boolean;
}

export class UsageError extends Error {}

export function parse(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        playbook: { type: 'string' },
        limit: { type: 'string' },
        tags: { type: 'string' },
        forks: { type: 'string' },
        out: { type: 'string' },
        plan: { type: 'string' },
        inventory: { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        identity: { type: 'string' },
        fingerprint: { type: 'string' },
        snapshot: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        reveal: { type: 'boolean', default: false },
        delete: { type: 'boolean', default: false },
        'install-deps': { type: 'boolean', default: false },
        wipe: { type: 'boolean', default: false },
        'connect-timeout': { type: 'string' },
        'exec-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const [command = '', ...positionals] = parsed.positionals;
  const int = (name: string, raw: string | undefined, dflt: number, min: number): number => {
    if (raw === undefined) return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, found "${raw}"`);
    return Number(raw);
  };
  return {
    command,
    positionals: v.inventory ? [v.inventory, ...positionals] : positionals,
    playbook: v.playbook,
    limit: v.limit,
    tags: v.tags?.split(',').map((t) => t.trim()).filter(Boolean),
    forks: int('forks', v.forks, 20, 1),
    out: v.out,
    plan: v.plan,
    identity: v.identity,
    fingerprint: v.fingerprint,
    snapshot: v.snapshot,
    dryRun: v['dry-run'] ?? false,
    reveal: v.reveal ?? false,
    delete: v.delete ?? false,
    json: v.json ?? false,
    verbose: v.verbose ?? false,
    installDeps: v['install-deps'] ?? false,
    wipe: v.wipe ?? false,
    connectTimeoutMs: int('connect-timeout', v['connect-timeout'], 10, 1) * 1000,
    execTimeoutMs: int('exec-timeout', v['exec-timeout'], 600, 1) * 1000,
    help: v.help ?? false,
  };
}
