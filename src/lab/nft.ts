// One nftables table per lab bridge, ours alone: masquerade for the lab subnet, and a forward policy
// that lets lab hosts reach only the Debian mirror (tcp 80/443) — nothing else is routed anywhere.
// Other tables' chains still see the packets; we only ever add or delete our own table.
import { run, runOk } from './exec.js';

export interface LabNftSpec {
  bridge: string;
  /** lab network in CIDR */
  network: string;
  /** resolved mirror endpoints (IPv4) */
  mirrors: { address: string; ports: number[] }[];
}

export function nftTableName(bridge: string): string {
  return `provision_lab_${bridge.replace(/[^a-z0-9_]/g, '_')}`;
}

/** Pure: the nft script. Declaring then deleting the table first makes the whole replace atomic. */
export function renderLabRuleset(spec: LabNftSpec): string {
  const t = nftTableName(spec.bridge);
  const br = JSON.stringify(spec.bridge);
  const allow = spec.mirrors.flatMap((m) =>
    m.ports.length ? [`    iifname ${br} ip saddr ${spec.network} ip daddr ${m.address} tcp dport { ${m.ports.join(', ')} } accept`] : [],
  );
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    // host to host on the bridge (seen here when br_netfilter is loaded)
    `    iifname ${br} oifname ${br} accept`,
    `    oifname ${br} ct state established,related accept`,
    ...allow,
    // reject, not drop: a blocked connection fails at once instead of hanging until a timeout
    `    iifname ${br} reject with icmpx type admin-prohibited`,
    `    oifname ${br} drop`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${spec.network} oifname != ${br} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function applyLabRuleset(spec: LabNftSpec): Promise<void> {
  await runOk('nft', ['-f', '-'], { input: renderLabRuleset(spec) });
}

export async function labTableExists(bridge: string): Promise<boolean> {
  return (await run('nft', ['list', 'table', 'inet', nftTableName(bridge)])).code === 0;
}

export async function deleteLabRuleset(bridge: string): Promise<boolean> {
  if (!(await labTableExists(bridge))) return false;
  await runOk('nft', ['delete', 'table', 'inet', nftTableName(bridge)]);
  return true;
}
