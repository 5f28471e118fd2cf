// System metrics on the server: a real `specimen run` samples its process tree into system.parquet, and a
// real server on a socket serves those samples as chart series (`GET /api/series?source=system`) over
// elapsed seconds, agreeing with what DuckDB reads from the file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory, quoteLiteral } from '../../src/duckdb/node-api.js';
import type { SeriesResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { runCli, tempDir } from '../support/helpers.js';
import { request } from '../support/http.js';

const ID = '2025_01_02_system_chart';
const ALLOC = 200 * 1024 * 1024;
const ALLOCATE = `const b = Buffer.alloc(${ALLOC}, 1); setTimeout(() => console.log(b.length), 1500);`;

describe.runIf(process.platform === 'linux')('GET /api/series?source=system', () => {
  let vaultDir: string;
  let server: RunningServer;
  let runId: string;
  let file: string;

  beforeAll(async () => {
    vaultDir = tempDir('sv-system-server-');
    expect((await runCli(['init', vaultDir])).code).toBe(0);
    const n = await runCli(['new', ID, '--domain', 'training', '--method', 'fine_tuning'], { cwd: vaultDir });
    expect(n.code, n.stderr).toBe(0);
    const r = await runCli(['run', ID, '--system-interval', '0.2', '--', process.execPath, '-e', ALLOCATE], {
      cwd: vaultDir,
    });
    expect(r.code, r.stderr).toBe(0);
    const [run] = await (await SpecimenStorage.open(ID, { vault: vaultDir })).listRunInfo();
    runId = run!.runId;
    file = path.join(run!.path, 'system.parquet');
    expect(fs.existsSync(file)).toBe(true);
    server = await startServer({ vaultRoot: vaultDir, port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(vaultDir, { recursive: true, force: true });
  });

  it('serves CPU % and RSS over elapsed seconds, as DuckDB reads them from system.parquet', async () => {
    const db = await openMemory();
    let expected: { n: number; peak: number; first: number; last: number };
    try {
      const reader = await db.connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, max(rss_bytes)::DOUBLE AS peak, min(elapsed_s)::DOUBLE AS first,
                max(elapsed_s)::DOUBLE AS last FROM read_parquet(${quoteLiteral(file)})`,
      );
      expected = (reader.getRowObjectsJS() as (typeof expected)[])[0]!;
    } finally {
      db.close();
    }
    const r = await request(
      server.port,
      `/api/series?run=${ID}/${runId}&metric=cpu_percent&metric=rss_bytes&width=800&source=system`,
    );
    expect(r.status, r.text).toBe(200);
    const body = JSON.parse(r.text) as SeriesResponse;
    expect(body.series.map((s) => s.metric)).toEqual(['cpu_percent', 'rss_bytes']);
    const [cpu, rss] = body.series;
    expect(cpu!.missing).toBeUndefined();
    expect(rss!.total).toBe(expected.n);
    expect(rss!.downsampled).toBe(false);
    // x is elapsed seconds, not the row number.
    expect(rss!.min_step).toBe(expected.first);
    expect(rss!.max_step).toBe(expected.last);
    expect(rss!.steps).toHaveLength(expected.n);
    expect(Math.max(...(rss!.values as number[]))).toBe(expected.peak);
    expect(expected.peak).toBeGreaterThan(ALLOC);
    for (let i = 1; i < rss!.steps.length; i++) expect(rss!.steps[i]!).toBeGreaterThan(rss!.steps[i - 1]!);
    // elapsed_s is the x axis, not a series.
    const x = await request(
      server.port,
      `/api/series?run=${ID}/${runId}&metric=elapsed_s&width=100&source=system`,
    );
    expect((JSON.parse(x.text) as SeriesResponse).series[0]!.missing).toBe(true);
  });

  it('keeps system samples apart from the run metrics (which this run has none of)', async () => {
    const r = await request(server.port, `/api/series?run=${ID}/${runId}&metric=rss_bytes&width=100`);
    expect(r.status, r.text).toBe(200);
    expect((JSON.parse(r.text) as SeriesResponse).series[0]!.missing).toBe(true);
  });

  it('reads system.parquet through the catalog session once the vault is indexed, with the same series', async () => {
    const target = `/api/series?run=${ID}/${runId}&metric=rss_bytes&width=800&source=system`;
    const before = JSON.parse((await request(server.port, target)).text) as SeriesResponse;
    expect((await runCli(['index'], { cwd: vaultDir })).code).toBe(0);
    const indexed = await startServer({ vaultRoot: vaultDir, port: 0, index: false });
    try {
      const r = await request(indexed.port, target);
      expect(r.status, r.text).toBe(200);
      const after = JSON.parse(r.text) as SeriesResponse;
      expect(after.series[0]!.steps).toEqual(before.series[0]!.steps);
      expect(after.series[0]!.values).toEqual(before.series[0]!.values);
    } finally {
      await indexed.close();
    }
  });

  it('refuses a system.parquet that is a symlink out of the vault', async () => {
    const outside = path.join(tempDir('sv-system-outside-'), 'system.parquet');
    fs.copyFileSync(file, outside);
    const moved = `${file}.orig`;
    fs.renameSync(file, moved);
    fs.symlinkSync(outside, file);
    try {
      const r = await request(
        server.port,
        `/api/series?run=${ID}/${runId}&metric=rss_bytes&width=100&source=system`,
      );
      expect(r.status).toBe(403);
      expect(r.text).toContain('PathEscapeError');
      expect(r.text).not.toContain(path.dirname(outside));
    } finally {
      fs.rmSync(file);
      fs.renameSync(moved, file);
      fs.rmSync(path.dirname(outside), { recursive: true, force: true });
    }
  });

  it('rejects an unknown source and a bad run reference with a clear 400', async () => {
    const bad = await request(server.port, `/api/series?run=${ID}/${runId}&metric=cpu_percent&source=gpu`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('source must be metrics or system');
    const esc = await request(server.port, `/api/series?run=${ID}/..&metric=cpu_percent&source=system`);
    expect(esc.status).toBe(400);
  });
});
