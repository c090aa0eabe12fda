// net.ipv4.ip_forward is machine-wide and several lab bridges may need it: the value found before the
// first bridge set it is remembered, and restored when the last bridge goes down.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { IP_FORWARD_STATE } from './paths.js';

const PROC = '/proc/sys/net/ipv4/ip_forward';

interface ForwardState {
  previous: string;
  bridges: string[];
}

async function load(): Promise<ForwardState | undefined> {
  const text = await readFile(IP_FORWARD_STATE, 'utf8').catch(() => '');
  return text ? (JSON.parse(text) as ForwardState) : undefined;
}

export async function enableForwarding(bridge: string): Promise<void> {
  const state = (await load()) ?? { previous: (await readFile(PROC, 'utf8')).trim(), bridges: [] };
  if (!state.bridges.includes(bridge)) state.bridges.push(bridge);
  await mkdir(path.dirname(IP_FORWARD_STATE), { recursive: true });
  await writeFile(IP_FORWARD_STATE, JSON.stringify(state) + '\n'); // recorded before we change anything
  await writeFile(PROC, '1\n');
}

/** Returns the restored value when this was the last bridge, else undefined. */
export async function releaseForwarding(bridge: string): Promise<string | undefined> {
  const state = await load();
  if (!state) return undefined;
  state.bridges = state.bridges.filter((b) => b !== bridge);
  if (state.bridges.length) {
    await writeFile(IP_FORWARD_STATE, JSON.stringify(state) + '\n');
    return undefined;
  }
  await writeFile(PROC, `${state.previous}\n`);
  await rm(IP_FORWARD_STATE, { force: true });
  return state.previous;
}
