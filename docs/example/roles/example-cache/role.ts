// The example of docs/writing-a-role.md: a small "cache" whose size follows the host's memory (a
// fact the role declares), which knows its peers by address (the inventory) and by a node id each
// peer makes for itself on first apply (a value the peers publish). The tests run it
// (test/unit/roles/example-cache.test.ts). Not a product role.
import { Type } from '@sinclair/typebox';
import { defineRole } from '../../../../src/roles/types.js';
import { memoryFact, type MemoryFact } from '../../../../src/roles/facts.js';
import * as r from '../../../../src/resources/index.js';

const DIR = '/etc/example-cache';

export default defineRole({
  name: 'example-cache',
  description: 'docs example: a cache sized from memory, peers named by the ids they publish',
  // The vars schema is the single source of truth: check validates the inventory against it, and
  // ctx.vars is typed from it.
  vars: Type.Object(
    {
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 7070 }),
      memory_percent: Type.Integer({ minimum: 1, maximum: 90, default: 25, description: 'share of usable memory the cache may take' }),
    },
    { additionalProperties: false },
  ),
  // Read on the host by its single probe: memory, with the cgroup limit (src/roles/facts.ts).
  facts: () => ({ memory: memoryFact() }),
  // Made on the host by the command below; other hosts read it with ctx.hostValue.
  publishes: {
    nodeId: { description: "this node's id, made on its first apply", probe: `cat ${DIR}/node-id`, madeBy: ['command:make the node id'] },
  },
  resources(ctx) {
    const memory = ctx.fact<MemoryFact>('memory');
    const peers = ctx.inventory.hosts.filter((h) => h.roles.includes('example-cache') && h.name !== ctx.host.name);
    return [
      r.directory({ path: DIR, mode: '0755' }),
      r.command({ name: 'make the node id', creates: `${DIR}/node-id`, run: `cat /proc/sys/kernel/random/uuid > ${DIR}/node-id.tmp && mv ${DIR}/node-id.tmp ${DIR}/node-id` }),
      r.file({
        path: `${DIR}/cache.conf`,
        content: ctx.template('cache.conf', {
          port: ctx.vars.port,
          // offline (`provision check`) facts are not read yet
          sizeMiB: memory ? Math.floor((memory.usableMiB * ctx.vars.memory_percent) / 100) : 'unknown until probed',
          peers: peers.map((p) => ({ name: p.name, address: p.address, id: ctx.hostValue(p, 'example-cache', 'nodeId') })),
        }),
        notify: ['reload example-cache'],
      }),
    ];
  },
  handlers: () => ({
    // no daemon in the example: the handler records that it ran
    'reload example-cache': { script: `date +%s >> ${DIR}/reloads`, effect: 'the cache re-reads cache.conf' },
  }),
});
