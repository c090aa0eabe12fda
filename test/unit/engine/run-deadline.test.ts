// A host that never answers must fail alone: the run goes on and reports it. The answering host
// answers with probe output recorded on a lab host (test/fixtures/plan/converged, via ./replay.ts);
// the other one hangs.
import path from 'node:path';
import { describe, test, expect } from '@jest/globals';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { compile } from '../../../src/plan/compile.js';
import { run, type Connector } from '../../../src/apply/run.js';
import { answer, recorded } from './replay.js';

const repo = process.cwd();
const converged = recorded('converged');

describe('a host that never answers', () => {
  test('fails with the exec deadline while the other host is planned and verified', async () => {
    const inv = loadInventory(path.join(repo, 'test/fixtures/e2e/engine'));
    const pb = loadPlaybook(path.join(repo, 'test/fixtures/e2e/engine/playbook.yaml'));
    const compiled = await compile(inv, pb, { limit: 'app-1:app-2' });
    const execs = new Map<string, number>();
    const connector: Connector = {
      async connect(host) {
        return {
          get execCount() {
            return execs.get(host) ?? 0;
          },
          run(script: string) {
            execs.set(host, (execs.get(host) ?? 0) + 1);
            if (host === 'app-2') return new Promise(() => {}); // hangs forever
            return Promise.resolve({ stdout: answer(script, converged), stderr: '', code: 0 });
          },
        };
      },
      testFreshLogin: async () => {},
    };
    const started = Date.now();
    const { results } = await run(compiled, connector, { mode: 'apply', forks: 5, execTimeoutMs: 300, emit: () => {} });
    expect(Date.now() - started).toBeLessThan(5000);
    const byHost = Object.fromEntries(results.map((r) => [r.host, r]));
    expect(byHost['app-1']).toMatchObject({ status: 'unchanged', execs: 1 });
    expect(byHost['app-2']!.status).toBe('unreachable');
    expect(byHost['app-2']!.error).toMatch(/app-2 did not answer within 0 s \(--exec-timeout\)/);
  });
});
