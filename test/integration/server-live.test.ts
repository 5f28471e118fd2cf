// The server keeping up with a vault that changes under it (real server on a socket, real vault, real
// catalog): a new specimen, a run begun by an external writer and its sealing reach the catalog without
// POST /api/index, the catalog version moves only when the catalog did, and a running run's metrics.jsonl
// is served as it grows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogChanges } from '../../src/catalog/build/changes.js';
import { VaultQuery } from '../../src/catalog/index.js';
import { beginRun, sealExternalRun } from '../../src/runner/external-run.js';
import type {
  CatalogResponse,
  CatalogVersionResponse,
  LogsResponse,
  RunResponse,
  SeriesResponse,
  SpecimenResponse,
  ValuesAtResponse,
} from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir, until } from '../support/helpers.js';
import { request } from '../support/http.js';

const A = '2026_01_02_first';
const B = '2026_01_03_second';

describe('server keeps the catalog and running runs current', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  const posts: string[] = [];
  const get = async <T>(target: string): Promise<T> => {
    const r = await request(server.port, target);
    if (r.status !== 200) throw new Error(`${target}: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as T;
  };
  const catalogIds = async () => (await get<CatalogResponse>('/api/catalog')).rows.map((r) => String(r[0]));

  beforeAll(async () => {
    dir = tempDir('sv-live-server-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: A,
      domain: 'training',
      method: 'fine_tuning',
      description: 'first',
    });
    server = await startServer({
      vaultRoot: vault.root,
      port: 0,
      watch: 200,
      onWarning: (m) => posts.push(m),
    });
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('indexes a new specimen and a new run by itself, and leaves the catalog alone when nothing changed', async () => {
    expect(await catalogIds()).toEqual([A]);
    const v0 = (await get<CatalogVersionResponse>('/api/catalog/version')).version;
    await new Promise((r) => setTimeout(r, 600));
    // Nothing changed on disk: no index ran, the version is the same.
    expect((await get<CatalogVersionResponse>('/api/catalog/version')).version).toBe(v0);
    expect(new CatalogChanges(vault.root).pending()).toBe(false);

    await vault.createSpecimen({
      specimenId: B,
      domain: 'training',
      method: 'fine_tuning',
      description: 'second',
    });
    await until('the new specimen in the catalog', async () =>
      (await catalogIds()).includes(B) ? true : undefined,
    );
    const v1 = (await get<CatalogVersionResponse>('/api/catalog/version')).version;
    expect(v1).not.toBe(v0);
    expect((await get<CatalogResponse>('/api/catalog')).version).toBe(v1);

    const begun = await beginRun(
      vault,
      B,
      { config: { lr: 0.1 }, seed: 3, name: 'probe-a', tags: ['probe', 'lr'], notes: 'first look' },
      { provenance: false },
    );
    const runId = begun.run_id;
    const runDir = begun.run_dir;
    const runRow = async () => {
      const c = await get<CatalogResponse>('/api/catalog');
      const row = c.rows.find((r) => r[0] === B);
      return row && row[c.columns.indexOf('latest_run')] === runId
        ? String(row[c.columns.indexOf('latest_status')])
        : undefined;
    };
    expect(await until('the begun run in the catalog', runRow)).toBe('running');
    // Added through the delta (the catalog file is not rewritten): the version moves all the same.
    expect((await get<CatalogVersionResponse>('/api/catalog/version')).version).not.toBe(v1);

    // A running run's JSON lines are served as they grow.
    const jsonl = path.join(runDir, 'metrics.jsonl');
    fs.writeFileSync(jsonl, '{"step": 0, "loss": 1.0}\n{"step": 1, "loss": 0.5}\n');
    const run1 = await get<RunResponse>(`/api/specimens/${B}/runs/${runId}`);
    expect(run1.metrics?.rows).toBe(2);
    // Appending to a running run's file is no reason to re-index (only entries created, renamed, removed).
    const changes = new CatalogChanges(vault.root);
    await until('the index to catch up', async () => (changes.pending() ? undefined : true));
    const vr = (await get<CatalogVersionResponse>('/api/catalog/version')).version;
    fs.appendFileSync(jsonl, '{"step": 2, "loss": 0.25, "eval": 0.9}\n{"step": 3, "lo');
    expect(changes.pending()).toBe(false);
    const run2 = await get<RunResponse>(`/api/specimens/${B}/runs/${runId}`);
    expect(run2.metrics?.rows).toBe(3);
    expect(run2.metrics?.columns.map((c) => c.name)).toEqual(['step', 'loss', 'eval']);
    await new Promise((r) => setTimeout(r, 700));
    expect((await get<CatalogVersionResponse>('/api/catalog/version')).version).toBe(vr);
    const series = await get<SeriesResponse>(
      `/api/series?run=${encodeURIComponent(`${B}/${runId}`)}&metric=loss&width=100`,
    );
    expect(series.series[0]?.values).toEqual([1, 0.5, 0.25]);
    expect(series.series[0]?.steps).toEqual([0, 1, 2]);

    // Its console output, tailed by offset: only what is new comes back.
    const logs = `/api/specimens/${B}/runs/${runId}/logs`;
    expect(await get<LogsResponse>(`${logs}?stream=stderr`)).toMatchObject({ exists: false, text: '' });
    fs.writeFileSync(path.join(runDir, 'stdout.log'), 'epoch 0\nepoch 1\n');
    const first = await get<LogsResponse>(`${logs}?stream=stdout`);
    expect(first).toMatchObject({ exists: true, offset: 0, text: 'epoch 0\nepoch 1\n', next_offset: 16 });
    fs.appendFileSync(path.join(runDir, 'stdout.log'), 'epoch 2\nepo');
    const next = await get<LogsResponse>(`${logs}?stream=stdout&offset=${first.next_offset}`);
    expect(next).toMatchObject({ offset: 16, text: 'epoch 2\nepo', next_offset: 27, size: 27 });
    expect((await request(server.port, `${logs}?stream=secret`)).status).toBe(400);

    // Sealing moves the run's status in the catalog without a re-index request.
    fs.appendFileSync(jsonl, 'ss": 0.125}\n');
    fs.writeFileSync(path.join(runDir, 'finish.json'), JSON.stringify({ status: 'succeeded' }));
    await sealExternalRun(vault, B, runId);
    expect(
      await until('the sealed status in the catalog', async () => {
        const s = await runRow();
        return s === 'succeeded' ? s : undefined;
      }),
    ).toBe('succeeded');
    const sealed = await get<RunResponse>(`/api/specimens/${B}/runs/${runId}`);
    expect(sealed.metrics?.rows).toBe(4);
    expect(posts.filter((m) => m.startsWith('catalog not updated'))).toEqual([]);

    // The run's identity is queryable (added through the delta, so that path carries the new columns)…
    const q = await VaultQuery.open(vault.root);
    try {
      expect(
        await q.rows('SELECT seed, name, tags, notes FROM runs WHERE specimen_id = $1 AND run_id = $2', [
          B,
          runId,
        ]),
      ).toEqual([{ seed: 3, name: 'probe-a', tags: ['probe', 'lr'], notes: 'first look' }]);
    } finally {
      q.close();
    }
    // …and served with the run.
    const spec = await get<SpecimenResponse>(`/api/specimens/${B}`);
    expect(spec.runs[0]).toMatchObject({
      name: 'probe-a',
      tags: ['probe', 'lr'],
      notes: 'first look',
      seed: 3,
    });
  });

  it('serves a metric logged every 50 steps as a line of its values, and the nearest value at a pinned step', async () => {
    const storage = await SpecimenStorage.open(A, { vault });
    await storage.startRun({ seeds: { global: 1 } });
    const w = storage.metricsWriter();
    for (let step = 0; step < 1000; step++)
      w.log(
        step % 50 === 0
          ? { step, loss: 1 / (step + 1), eval_acc: step / 1000 }
          : { step, loss: 1 / (step + 1) },
      );
    await storage.finish();
    const runId = storage.runId!;
    const ref = encodeURIComponent(`${A}/${runId}`);
    const series = await get<SeriesResponse>(`/api/series?run=${ref}&metric=eval_acc&metric=loss&width=800`);
    const evalSeries = series.series.find((x) => x.metric === 'eval_acc')!;
    expect(evalSeries.total).toBe(20);
    expect(evalSeries.steps).toEqual(Array.from({ length: 20 }, (_, i) => i * 50));
    expect(evalSeries.values.every((v) => v !== null)).toBe(true);
    expect(series.series.find((x) => x.metric === 'loss')!.total).toBe(1000);
    const at = await get<ValuesAtResponse>(`/api/values?run=${ref}&step=1212`);
    expect(at.runs[0]).toMatchObject({
      step: 999,
      values: { eval_acc: 0.95, loss: 1 / 1000 },
      steps: { eval_acc: 950 },
    });
    const mid = await get<ValuesAtResponse>(`/api/values?run=${ref}&step=512`);
    expect(mid.runs[0]).toMatchObject({
      step: 512,
      values: { eval_acc: 0.5 },
      steps: { eval_acc: 500, loss: 512 },
    });
  });
});
