// Shared by the adversarial suite: a demo vault outside of which a secret lives, and raw HTTP requests to a
// server (Host and every header under the test's control).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';

export const DEMO = 'example_2024_12_19_synthetic_demo';
export const SECRET = 'TOP-SECRET-OUTSIDE-THE-VAULT';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Milliseconds from sending to the end of the body. */
  ms: number;
}

export function request(
  port: number,
  target: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; host?: string | null } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.host !== null) headers.Host = options.host ?? `localhost:${port}`;
    const t0 = performance.now();
    const req = http.request(
      { host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - t0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

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
  await indexVault(root);
  return { dir, root, outside, runId, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
