import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportData, parseRefs } from '../../../src/report/build-report.js';
import { reportLimits } from '../../../src/report/report-types.js';
import type { Vault } from '../../../src/storage/vault.js';
import { saveView } from '../../../src/storage/views.js';
import { NOTEBOOK_SPECIMEN, notebookVault } from '../../support/notebook-vault.js';

describe('report data', () => {
  let vault: Vault;
  beforeAll(async () => {
    vault = await notebookVault();
  });
  afterAll(() => {
    if (vault) fs.rmSync(vault.root, { recursive: true, force: true });
  });

  it('holds every run in time order with its provenance, failure point, supersession and the lab fields', async () => {
    const data = await buildReportData(vault, { refs: [NOTEBOOK_SPECIMEN] });
    expect(data.runs.map((r) => r.runId)).toEqual(['20250301_090000', '20250301_100000', '20250301_110000']);
    const [first, failed, last] = data.runs;
    expect(first!.supersededBy).toEqual({
      by: '20250301_110000',
      reason: 'evaluation used the training split',
    });
    expect(failed!.failure).toBe('FloatingPointError: loss is NaN at step 3');
    expect(failed!.exitCode).toBe(1);
    expect(last!.git.commit).toBe('f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed');
    expect(last!.environment).toEqual({
      host: { cpu_cores: 8, hostname: 'lab-1', os: 'Linux 6.1' },
      runtime: { python: '3.11.9' },
    });
    expect(data.specimens[0]!.lab).toEqual([
      { field: 'hypothesis', text: 'A learning rate of 0.01 reaches a lower loss than 0.1.' },
    ]);
    expect(data.specimens[0]!.fieldNotes).toContain('## Observations');
    const chart = data.items.find((i) => i.kind === 'chart');
    if (chart?.kind !== 'chart') throw new Error('no chart');
    expect(chart.series.map((s) => s.values)).toEqual([
      [2, 1, 0.75, 0.5],
      [2, 8, 32],
      [2, 1.5, 1, 0.25],
    ]);
  });

  it('keeps only the runs asked for, and the same arguments give the same data', async () => {
    const refs = [`${NOTEBOOK_SPECIMEN}/20250301_110000`, `${NOTEBOOK_SPECIMEN}/20250301_090000`];
    const a = await buildReportData(vault, { refs });
    const b = await buildReportData(vault, { refs });
    expect(a.runs.map((r) => r.runId)).toEqual(['20250301_090000', '20250301_110000']);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    await expect(buildReportData(vault, { refs: [`${NOTEBOOK_SPECIMEN}/20250301_120000`] })).rejects.toThrow(
      /20250301_120000/,
    );
    expect(() => parseRefs(['nope/../x'])).toThrow();
  });

  it('charts a view against another logged column as x', async () => {
    await saveView(vault.root, 'by-loss', {
      version: 1,
      title: 'Loss against itself',
      runs: [`${NOTEBOOK_SPECIMEN}/20250301_090000`],
      items: [{ kind: 'chart', metrics: ['loss', 'nope'], x: 'loss' }],
    });
    const data = await buildReportData(vault, { refs: [], view: 'by-loss' });
    const chart = data.items[0]!;
    if (chart.kind !== 'chart') throw new Error('no chart');
    expect(chart.x).toBe('loss');
    // Points ordered by the x column, not by step.
    expect(chart.series[0]!.steps).toEqual([0.5, 0.75, 1, 2]);
    // A metric no run has gives an empty chart (the report says so) rather than an error.
    const none = data.items[1]!;
    expect(none.kind === 'chart' && none.series).toEqual([]);
  });

  it('shrinks the per-series limits when many series share the embedded points', () => {
    expect(reportLimits(3)).toEqual({ fullPoints: 20_000, buckets: 5_000 });
    expect(reportLimits(1_000)).toEqual({ fullPoints: 2_000, buckets: 500 });
    expect(reportLimits(1_000_000)).toEqual({ fullPoints: 1_000, buckets: 250 });
  });
});
