// User SQL from the library (`runUserQuery`) and the CLI (`specimen query`) runs in a separate process with
// the server's limits: a runaway query is interrupted at its time limit, a query process that dies (here:
// SIGKILLed mid-query, as a native abort or the OOM killer would) fails only that query with
// QueryEngineError while the host process carries on, and a result past the row limit is cut with a warning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUserQuerySessions, runUserQuery } from '../../src/catalog/index.js';
import { sharedQueryPool } from '../../src/catalog/sandbox/pool.js';
import { isVaultError } from '../../src/index.js';
import { runCli } from '../support/helpers.js';
import { demoVault, type TestVault } from './harness.js';

let v: TestVault;
const RUNAWAY = 'SELECT count(*) AS n FROM range(100000000000) a, range(1000) b';

beforeAll(async () => {
  v = await demoVault('sv-qproc-');
});

afterAll(async () => {
  await closeUserQuerySessions();
  v?.cleanup();
});

describe('runUserQuery in a separate process', () => {
  it('answers from another process, interrupts a runaway query at its limit', async () => {
    const r = await runUserQuery(v.root, 'SELECT count(*) AS n FROM catalog', { readOnly: true });
    expect(r.rows).toEqual([{ n: 1 }]);
    const pids = sharedQueryPool(v.root, {}).pids;
    expect(pids.length).toBe(1);
    expect(pids).not.toContain(process.pid);
    const err = await runUserQuery(v.root, RUNAWAY, { readOnly: true, timeoutMs: 800 }).catch(
      (e: unknown) => e,
    );
    expect(isVaultError(err, 'QueryTimeoutError'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/interrupted after 800 ms/);
    // Interrupted by DuckDB inside the query process, not killed by the pool's backstop: the same process
    // takes the next query.
    expect(sharedQueryPool(v.root, {}).pids).toEqual(pids);
  });

  it('survives the query process dying mid-query: that query fails, the next one runs afresh', async () => {
    const pool = sharedQueryPool(v.root, {});
    await runUserQuery(v.root, 'SELECT 1 AS one', { readOnly: true });
    const [pid] = pool.pids;
    const pending = runUserQuery(v.root, RUNAWAY, { readOnly: true, timeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid!, 'SIGKILL');
    const err = await pending;
    expect(isVaultError(err, 'QueryEngineError'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/SIGKILL/);
    const again = await runUserQuery(v.root, 'SELECT count(*) AS n FROM catalog', { readOnly: true });
    expect(again.rows).toEqual([{ n: 1 }]);
    expect(pool.pids).not.toContain(pid);
  });
});

describe('specimen query in a separate process', () => {
  it('interrupts a runaway query at --timeout with a clear error, exit 2', async () => {
    const r = await runCli(['query', RUNAWAY, '--timeout', '1000', '--vault', v.root], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: sql: the query was interrupted after 1000 ms, its time limit/);
    expect(r.stderr).not.toMatch(/unexpected failure/);
  });

  it('refuses a bad --timeout, and cuts a result past the row limit with a warning', async () => {
    const bad = await runCli(['query', 'SELECT 1', '--timeout', 'soon', '--vault', v.root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be a positive number of milliseconds, got "soon"/);
    const r = await runCli([
      'query',
      'SELECT range AS n FROM range(150000)',
      '--format',
      'csv',
      '--vault',
      v.root,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(100_001);
    expect(r.stderr).toMatch(/warning: the result was cut at 100000 rows \(the row limit\)/);
  });
});
