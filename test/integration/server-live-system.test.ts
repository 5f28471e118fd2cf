// Live system metrics on the server: a real Python training process samples its process tree into
// system.jsonl every 0.2 s, and a real server on a socket serves those samples as chart series
// (`GET /api/series?source=system`) while the run is running, growing between two requests, then from
// system.parquet once the run is sealed; the values route a chart's hover calls answers with every system
// metric at an elapsed second. A system.jsonl symlinked out of the vault is refused by both.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRun } from '../../src/runner/external-run.js';
import type { SeriesResponse, ValuesAtResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir, until } from '../support/helpers.js';
import { request } from '../support/http.js';
import { type PythonRun, startPythonRun } from '../support/python-run.js';

const ID = '2026_01_02_live_system';

describe.runIf(process.platform === 'linux')('live system metrics over the API', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let py: PythonRun | undefined;

  const series = async (runId: string, metrics = ['cpu_percent', 'rss_bytes']) => {
    const q = metrics.map((m) => `&metric=${m}`).join('');
    const r = await request(server.port, `/api/series?run=${ID}/${runId}${q}&width=800&source=system`);
    return {
      status: r.status,
      text: r.text,
      body: r.status === 200 ? (JSON.parse(r.text) as SeriesResponse) : undefined,
    };
  };

  beforeAll(async () => {
    dir = tempDir('sv-live-system-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: ID,
      domain: 'training',
      method: 'fine_tuning',
      description: 'x',
    });
    server = await startServer({ vaultRoot: vault.root, port: 0 });
  });

  afterAll(async () => {
    py?.kill();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a running run’s system.jsonl as it grows, then its system.parquet once sealed', async () => {
    py = await startPythonRun({ vaultRoot: vault.root, specimenId: ID, cwd: path.join(dir, 'work') });
    const { runId, runDir } = py;
    // Two samples at least, read from the lines (nothing is sealed yet).
    const first = await until('two live samples', async () => {
      const rss = (await series(runId)).body?.series[1];
      return rss && rss.total >= 2 ? rss.total : undefined;
    });
    expect(fs.existsSync(path.join(runDir, 'system.parquet'))).toBe(false);
    expect(py.child.exitCode).toBeNull();
    // Later requests see more samples: only the appended bytes are read.
    const later = await until('more live samples', async () => {
      const rss = (await series(runId)).body?.series[1];
      return rss && rss.total > first ? rss : undefined;
    });
    expect(py.child.exitCode).toBeNull();
    expect(later.status).toBe('running');
    expect(later.values.every((v) => typeof v === 'number' && v > 1024 * 1024)).toBe(true);
    for (let i = 1; i < later.steps.length; i++) expect(later.steps[i]!).toBeGreaterThan(later.steps[i - 1]!);
    // elapsed_s is the x axis, not a series, in the live lines too.
    expect((await series(runId, ['elapsed_s'])).body!.series[0]!.missing).toBe(true);

    const { code, stderr } = await py.stop();
    expect(code, stderr).toBe(0);
    const parquet = path.join(runDir, 'system.parquet');
    expect(fs.existsSync(parquet)).toBe(true);
    const sealed = await until('the sealed series', async () => {
      const rss = (await series(runId)).body?.series[1];
      return rss && rss.status === 'succeeded' ? rss : undefined;
    });
    // Every line the sampler wrote (the last one at finish too) is a point of the sealed series.
    const lines = fs
      .readFileSync(path.join(runDir, 'system.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    expect(sealed.total).toBe(lines);
    expect(sealed.total).toBeGreaterThan(later.total);

    // The values route (a chart's hover) serves every system metric at the sample nearest to a second.
    const samples = fs
      .readFileSync(path.join(runDir, 'system.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { elapsed_s: number; rss_bytes: number; cpu_percent: number | null });
    // Asked at a sample's own second: the final sample can come a few ms after a periodic one, so an
    // offset could land nearer its neighbour.
    const mid = samples[Math.floor(samples.length / 2)]!;
    const v = await request(
      server.port,
      `/api/values?run=${ID}/${runId}&step=${mid.elapsed_s}&source=system`,
    );
    expect(v.status, v.text).toBe(200);
    const at = JSON.parse(v.text) as ValuesAtResponse;
    expect(at.source).toBe('system');
    expect(at.runs[0]!.step).toBe(mid.elapsed_s);
    expect(at.runs[0]!.values.rss_bytes).toBe(mid.rss_bytes);
    expect(at.runs[0]!.values.cpu_percent).toBe(mid.cpu_percent);
    // elapsed_s and time are not values; the run's metrics are not mixed in.
    expect(Object.keys(at.runs[0]!.values)).not.toContain('elapsed_s');
    expect(Object.keys(at.runs[0]!.values)).not.toContain('loss');
    // Without source, the same route still answers with the run's metrics by step.
    const m = JSON.parse(
      (await request(server.port, `/api/values?run=${ID}/${runId}&step=3`)).text,
    ) as ValuesAtResponse;
    expect(m.source).toBe('metrics');
    expect(m.runs[0]!.values.loss).toBe(1 / 4);
    const bad = await request(server.port, `/api/values?run=${ID}/${runId}&step=3&source=tensors`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('source must be metrics or system');
  }, 120_000);

  it('refuses a live system.jsonl that is a symlink out of the vault', async () => {
    const begun = await beginRun(vault, ID, { config: {}, name: 'escape' }, { provenance: false });
    const outside = path.join(dir, 'outside.jsonl');
    fs.writeFileSync(outside, '{"elapsed_s": 0, "rss_bytes": 1}\n{"elapsed_s": 1, "rss_bytes": 2}\n');
    fs.symlinkSync(outside, path.join(begun.run_dir, 'system.jsonl'));
    const r = await series(begun.run_id, ['rss_bytes']);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain(dir);
    // The hover's values route is confined the same way.
    const v = await request(server.port, `/api/values?run=${ID}/${begun.run_id}&step=1&source=system`);
    expect(v.status).toBe(403);
    expect(v.text).not.toContain(dir);
  });
});
