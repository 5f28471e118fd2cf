// Shared by the adversarial suite: a demo vault outside of which a secret lives, and raw HTTP requests to a
// server (Host and every header under the test's control).
import fs from 'node:fs';
import path from 'node:path';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { flushGroupCommits } from '../../src/storage/durability.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { type Reply, request } from '../support/http.js';

export { type Reply, request } from '../support/http.js';

export const DEMO = 'example_2024_12_19_synthetic_demo';
export const SECRET = 'TOP-SECRET-OUTSIDE-THE-VAULT';

export function postQuery(port: number, body: Record<string, unknown>): Promise<Reply> {
  return request(port, '/api/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export interface TestVault {
  dir: string;
  root: string;
  outside: string;
  runId: string;
  cleanup(): void;
}

/** A vault holding the synthetic demo, indexed, with `outside/secret.txt` and `outside/secret.csv` beside it. */
export async function demoVault(prefix: string): Promise<TestVault> {
  const dir = tempDir(prefix);
  const root = path.join(dir, 'vault');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), `${SECRET}\n`);
  fs.writeFileSync(path.join(outside, 'secret.csv'), `secret\n${SECRET}\n`);
  const vault = await Vault.init(root);
  const { runId } = await runSyntheticDemo({ vault });
  // The demo's seals are batch-committed: flushed now so the journal entry is gone before tests take
  // snapshots of the tree (it would vanish a second later, in the middle of a test).
  await flushGroupCommits();
  await indexVault(root);
  return { dir, root, outside, runId, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
