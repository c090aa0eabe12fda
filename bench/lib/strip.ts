// "First apply" in the bench = role drand-node added to a host that base already converged (base
// renders drand-node's firewall openings, so the firewall is base's part and stays). Before each
// first apply the nodes are put back to that state: everything drand-node made that base did not
// is removed over SSH, untimed. Its packages (curl, python3) stay: removing them would also be
// dpkg work a user adding the role to a base host does not pay, and base may share them.
// The bench then checks with `provision plan` that only drand-node's resources are left to do.

/** the shell script run on every node (as root) */
export const STRIP_DRAND_NODE = [
  'set -e',
  'systemctl disable --now drand.service >/dev/null 2>&1 || true',
  'rm -rf /etc/systemd/system/drand.service /etc/systemd/system/drand.service.d',
  'systemctl daemon-reload',
  'systemctl reset-failed drand.service >/dev/null 2>&1 || true',
  'rm -f /usr/local/bin/drand',
  'rm -rf /var/lib/drand',
  // userdel removes the user's own group too (USERGROUPS_ENAB); groupdel for a group left behind
  'if id -u drand >/dev/null 2>&1; then userdel drand; fi',
  'if getent group drand >/dev/null; then groupdel drand; fi',
  // nothing of it may be left: the first apply must have all of drand-node's work to do
  'test ! -e /usr/local/bin/drand && test ! -e /var/lib/drand && test ! -e /etc/systemd/system/drand.service',
  '! getent passwd drand >/dev/null && ! getent group drand >/dev/null',
].join('\n');

export interface StripCheck {
  /** changes planned for a resource of a role other than drand-node (must be none) */
  foreign: { host: string; id: string; role: string }[];
  /** nodes with no change at all (the strip did nothing there: must be none) */
  untouched: string[];
  /** drand-node's resources left with nothing to do after the strip (e.g. its packages), per resource id */
  keptIds: string[];
}

/**
 * Judge a `provision plan --json` after the strip: every planned change must belong to drand-node
 * (`roleOf`: resource id → role, from compiling the bench playbook), and every node must have some.
 */
export function checkStripPlan(
  hosts: { host: string; changes: { id: string }[] }[],
  nodes: string[],
  roleOf: (host: string) => Map<string, string>,
  role = 'drand-node',
): StripCheck {
  const foreign: StripCheck['foreign'] = [];
  const untouched: string[] = [];
  const kept = new Set<string>();
  for (const name of nodes) {
    const h = hosts.find((x) => x.host === name);
    const of = roleOf(name);
    if (!h || h.changes.length === 0) {
      untouched.push(name);
      continue;
    }
    const changed = new Set(h.changes.map((c) => c.id));
    for (const id of changed) {
      const r = of.get(id) ?? '(unknown)';
      if (r !== role) foreign.push({ host: name, id, role: r });
    }
    for (const [id, r] of of) if (r === role && !changed.has(id)) kept.add(id);
  }
  return { foreign, untouched, keptIds: [...kept].sort() };
}
