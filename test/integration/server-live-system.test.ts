// Live system metrics on the server: a real Python training process samples its process tree into
// system.jsonl every 0.2 s, and a real server on a socket serves those samples as chart series
// (`GET /api/series?source=system`) while the run is running, growing between two requests, then from
// system.parquet once the run is sealed. A system.jsonl symlinked out of the vault is refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRun } from '../../src/runner/external-run.js';
import type { SeriesResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { request } from '../support/http.js';
import { type PythonRun, startPythonRun } from '../support/python-run.js';

const ID = '2026_01_02_live_system';

/** Polls `check` every 50 ms until it returns a value (bounded generously: this is not a timing test). */
async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
  }, 120_000);

  it('refuses a live system.jsonl that is a symlink out of the vault', async () => {
    const begun = await beginRun(vault, ID, { config: {}, name: 'escape' }, { provenance: false });
    const outside = path.join(dir, 'outside.jsonl');
    fs.writeFileSync(outside, '{"elapsed_s": 0, "rss_bytes": 1}\n{"elapsed_s": 1, "rss_bytes": 2}\n');
    fs.symlinkSync(outside, path.join(begun.run_dir, 'system.jsonl'));
    const r = await series(begun.run_id, ['rss_bytes']);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain(dir);
  });
});
