// Runs staged in pending/ (a real Python process with this checkout's package and no CLI reachable, as
// on a cluster node), seen over the API before they are sealed: the specimen's pending list shows the run
// as running with its metrics so far, its series and console grow between requests (the same live readers
// as a running run's). While its writer is alive neither the server's own catalog refresh nor
// `specimen index` (which adopts staged runs) seals it; once it has finished, `specimen index` does.
// A stage name that is not one, or a stage that is a symlink out of pending/, is refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import type { LogsResponse, PendingListResponse, SeriesResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { runCli, tempDir, until } from '../support/helpers.js';
import { request } from '../support/http.js';
import { type PythonRun, startPythonRun } from '../support/python-run.js';

const ID = '2026_01_02_pending_live';

describe('pending runs over the API', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let py: PythonRun | undefined;
  const get = async <T>(target: string): Promise<T> => {
    const r = await request(server.port, target);
    if (r.status !== 200) throw new Error(`${target}: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as T;
  };
  const runsDir = () => path.join(vault.specimenDir(ID), 'runs');
  const sealedRuns = () => (fs.existsSync(runsDir()) ? fs.readdirSync(runsDir()) : []);

  beforeAll(async () => {
    dir = tempDir('sv-pending-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: ID,
      domain: 'training',
      method: 'fine_tuning',
      description: 'x',
    });
    await indexVault(vault.root);
    // The catalog watcher checks every 100 ms: many chances to touch the staged run while it is written.
    server = await startServer({ vaultRoot: vault.root, port: 0, watch: 100 });
  });

  afterAll(async () => {
    py?.kill();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a staged run with live metrics and console, and never seals it while its writer is alive', async () => {
    py = await startPythonRun({
      vaultRoot: vault.root,
      specimenId: ID,
      cwd: path.join(dir, 'work'),
      name: 'cluster-job',
      cli: false,
    });
    expect(py.runId).toBe('None');
    const stage = path.basename(py.runDir);
    expect(path.basename(path.dirname(py.runDir))).toBe('pending');

    const listed = await until('the staged run with rows', async () => {
      const r = (await get<PendingListResponse>(`/api/specimens/${ID}/pending`)).runs[0];
      return r?.metrics && r.metrics.rows > 0 ? r : undefined;
    });
    expect(listed.stage).toBe(stage);
    expect(listed.name).toBe('cluster-job');
    expect(listed.state).toBe('running');
    expect(listed.pid).toBe(py.child.pid);
    expect(listed.config).toEqual({ lr: 0.01 });
    expect(listed.metrics!.columns.find((c) => c.name === 'loss')?.numeric).toBe(true);

    const series = async () =>
      (await get<SeriesResponse>(`/api/specimens/${ID}/pending/${stage}/series?metric=loss&width=400`))
        .series[0]!;
    const first = (await series()).total;
    const later = await until('more rows', async () => {
      const s = await series();
      return s.total > first ? s : undefined;
    });
    expect(later.values[0]).toBe(1);
    const system = await until('system samples', async () => {
      const s = (
        await get<SeriesResponse>(
          `/api/specimens/${ID}/pending/${stage}/series?metric=rss_bytes&width=400&source=system`,
        )
      ).series[0]!;
      return s.total > 0 ? s : undefined;
    });
    expect(system.values[0]).toBeGreaterThan(1024 * 1024);
    const log = await until('console output', async () => {
      const l = await get<LogsResponse>(`/api/specimens/${ID}/pending/${stage}/logs?stream=stdout&offset=0`);
      return l.text.includes('training step 10') ? l : undefined;
    });
    expect(log.exists).toBe(true);

    // The server's catalog refresh (the watcher, or an index like it) and `specimen index`, which adopts
    // staged runs, both leave a run whose writer is alive where it is.
    await indexVault(vault.root);
    const idx = await runCli(['index', '--vault', vault.root]);
    expect(idx.code, idx.stderr).toBe(0);
    expect(idx.stderr).toContain('left in pending/');
    expect(py.child.exitCode).toBeNull();
    expect(fs.existsSync(py.runDir)).toBe(true);
    expect(sealedRuns()).toEqual([]);
    expect((await get<PendingListResponse>(`/api/specimens/${ID}/pending`)).runs.map((r) => r.state)).toEqual(
      ['running'],
    );

    // Finished: listed as such, and the next `specimen index` seals it; the list is then empty.
    const { code, stderr } = await py.stop();
    expect(code, stderr).toBe(0);
    expect((await get<PendingListResponse>(`/api/specimens/${ID}/pending`)).runs[0]!.state).toBe('finished');
    const adopt = await runCli(['index', '--vault', vault.root]);
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(sealedRuns()).toHaveLength(1);
    expect((await get<PendingListResponse>(`/api/specimens/${ID}/pending`)).runs).toEqual([]);
    const gone = await request(server.port, `/api/specimens/${ID}/pending/${stage}/logs`);
    expect(gone.status).toBe(404);
  }, 120_000);

  it('refuses stage names that are not one and a stage symlinked out of pending/', async () => {
    const base = `/api/specimens/${ID}/pending`;
    expect((await request(server.port, `${base}/..%2Fruns/logs`)).status).toBe(400);
    expect((await request(server.port, `${base}/notastage/logs`)).status).toBe(400);
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'stdout.log'), 'secret\n');
    const stage = '20260102_101500-4242-1a2b3c';
    fs.mkdirSync(path.join(vault.specimenDir(ID), 'pending'), { recursive: true });
    fs.symlinkSync(outside, path.join(vault.specimenDir(ID), 'pending', stage));
    const r = await request(server.port, `${base}/${stage}/logs`);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('secret');
    expect(r.text).not.toContain(dir);
    expect((await get<PendingListResponse>(base)).runs).toEqual([]);
  });
});
