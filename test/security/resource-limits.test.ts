// Resource limits of user SQL through the server: a query that would run for hours is interrupted at its
// time limit while other routes keep answering, memory and result size are bounded, too many queries at
// once are refused, and a crashed query process is replaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserQueryPool } from '../../src/catalog/sandbox/pool.js';
import { isVaultError } from '../../src/errors.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { demoVault, postQuery, request, type TestVault } from './harness.js';

const CROSS_JOIN = 'SELECT count(*) FROM range(1000000) a, range(1000000) b'; // 1e12 rows
const TIMEOUT_MS = 1500;

let v: TestVault;
let server: RunningServer;

beforeAll(async () => {
  v = await demoVault('sv-limits-');
  server = await startServer({
    vaultRoot: v.root,
    port: 0,
    index: false,
    queryLimits: { timeoutMs: TIMEOUT_MS, memoryLimit: '128MiB', maxResultBytes: 1 << 20, maxConcurrent: 2 },
  });
  // Start the query processes before anything is timed.
  await Promise.all([
    postQuery(server.port, { sql: 'SELECT 1' }),
    postQuery(server.port, { sql: 'SELECT 2' }),
  ]);
});

afterAll(async () => {
  await server?.close();
  v?.cleanup();
});

describe('user SQL limits', () => {
  it('interrupts a 1e12-row cross join at its time limit while health and catalog answer', async () => {
    const latencies: number[] = [];
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        for (const target of ['/api/health', '/api/catalog']) {
          const r = await request(server.port, target);
          expect(r.status).toBe(200);
          latencies.push(r.ms);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const r = await postQuery(server.port, { sql: CROSS_JOIN });
    stop = true;
    await probe;
    expect(r.status).toBe(408);
    const body = JSON.parse(r.text) as { error: { tag: string; message: string } };
    expect(body.error.tag).toBe('QueryTimeoutError');
    expect(body.error.message).toMatch(`interrupted after ${TIMEOUT_MS} ms`);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 2000);
    // A liveness check, not a performance target.
    expect(latencies.length).toBeGreaterThan(4);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    process.stdout.write(
      `cross join stopped at ${(r.ms / 1000).toFixed(2)} s; health/catalog max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} requests\n`,
    );
  });

  it('takes a shorter per-request limit, never a longer one', async () => {
    const r = await postQuery(server.port, { sql: CROSS_JOIN, timeoutMs: 300 });
    expect(r.status).toBe(408);
    expect(r.ms).toBeLessThan(TIMEOUT_MS);
    const longer = await postQuery(server.port, { sql: 'SELECT 1', timeoutMs: TIMEOUT_MS + 1 });
    expect(longer.status).toBe(400);
    expect(longer.text).toMatch(/timeoutMs must be an integer between 1 and 1500/);
  });

  it('stops a query at its memory limit with a clear error', async () => {
    const r = await postQuery(server.port, {
      sql: "SELECT string_agg(repeat('x', 100), ',') FROM range(10000000)",
    });
    expect(r.status).toBe(400);
    const body = JSON.parse(r.text) as { error: { tag: string; message: string } };
    expect(body.error.tag).toBe('QueryLimitError');
    expect(body.error.message).toMatch(/more than 128MiB of memory/);
  });

  it('cuts a result at its byte limit as well as its row limit', async () => {
    const bytes = await postQuery(server.port, { sql: "SELECT repeat('x', 1000) AS s FROM range(100000)" });
    expect(bytes.status).toBe(200);
    const b = JSON.parse(bytes.text) as { rows: unknown[]; truncated: boolean; truncatedBy: string };
    expect(b.truncated).toBe(true);
    expect(b.truncatedBy).toBe('bytes');
    expect(bytes.text.length).toBeLessThan(1.2 * (1 << 20));
    const rows = await postQuery(server.port, { sql: 'SELECT * FROM range(1000)', maxRows: 10 });
    const r = JSON.parse(rows.text) as { rows: unknown[]; truncatedBy: string };
    expect(r.rows).toHaveLength(10);
    expect(r.truncatedBy).toBe('rows');
    const huge = await postQuery(server.port, { sql: "SELECT repeat('x', 2000000) AS s" });
    expect(huge.status).toBe(400);
    expect(huge.text).toMatch(/"limit":"valueBytes"|more than the 1048576-byte result limit/);
  });

  it('refuses queries beyond the concurrent limit with 429', async () => {
    const replies = await Promise.all(
      [1, 2, 3].map(() => postQuery(server.port, { sql: CROSS_JOIN, timeoutMs: 800 })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([408, 408, 429]);
    const busy = replies.find((r) => r.status === 429)!;
    expect(JSON.parse(busy.text).error.tag).toBe('QueryBusyError');
    expect(busy.headers['retry-after']).toBe('1');
    // Once they finish, queries run again.
    expect((await postQuery(server.port, { sql: 'SELECT 42 AS x' })).status).toBe(200);
  });
});

describe('UserQueryPool', () => {
  it('survives its query process dying mid-query, and starts a fresh one', async () => {
    const pool = new UserQueryPool(v.root, { timeoutMs: 10_000, maxConcurrent: 1 });
    try {
      expect((await pool.run('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
      const pid = pool.pids[0]!;
      const running = pool.run(CROSS_JOIN).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL'); // what a native abort or the OOM killer would do
      const err = await running;
      expect(isVaultError(err, 'QueryEngineError')).toBe(true);
      expect((err as Error).message).toMatch(/exited with SIGKILL.*restarted/);
      expect((await pool.run('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
      expect(pool.pids[0]).not.toBe(pid);
      expect(pool.started).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('kills a query process that does not answer after its time limit', async () => {
    const pool = new UserQueryPool(v.root, { timeoutMs: 200, maxConcurrent: 1 });
    try {
      await pool.run('SELECT 1');
      const pid = pool.pids[0]!;
      // A stopped process cannot honour the interrupt: the backstop kills it.
      process.kill(pid, 'SIGSTOP');
      const err = await pool.run('SELECT 1').catch((e: unknown) => e);
      expect(isVaultError(err, 'QueryTimeoutError')).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(pool.pids).not.toContain(pid);
      expect((await pool.run('SELECT 3 AS x')).rows).toEqual([{ x: 3 }]);
    } finally {
      await pool.close();
    }
  });
});
