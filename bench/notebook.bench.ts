/**
 * Lab-notebook benchmarks, each against a baseline measured in the same run:
 *
 * - an edit from the web UI or `specimen set` (validated manifest rewrite + incremental index through the
 *   delta) on a vault of 2,000 specimens (300 with --quick) vs a full index of the same vault (target
 *   ≤ 0.35: an edit must not cost a rebuild);
 * - converting field notes in the older `●` markup to Markdown (fieldNotesToMarkdown) vs rendering the
 *   result with marked, which the page does anyway (target ≤ 1.0: the conversion is not the slow step).
 *
 * Imports the built library: run `npx tsc -p tsconfig.json` first.
 *
 * @example
 * node --expose-gc --import tsx bench/run.ts --only notebook --quick
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { marked } from 'marked';
import { indexVault } from '../dist/catalog/index.js';
import { fieldNotesToMarkdown } from '../dist/format/field-notes.js';
import { updateNotebook } from '../dist/storage/notebook.js';
import { Vault } from '../dist/storage/vault.js';
import { type BenchOptions, type BenchResult, bestOf } from './harness.js';

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const specimens = options.quick ? 300 : 2_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-notebook-'));
  try {
    const vault = await Vault.init(dir);
    for (let i = 0; i < specimens; i++)
      await vault.createSpecimen({
        specimenId: `2026_01_05_s${String(i).padStart(5, '0')}`,
        domain: 'training',
        method: 'fine_tuning',
        tags: ['bench'],
        ...(i % 4 === 0 ? { status: 'planned' as const, hypothesis: `hypothesis ${i}` } : {}),
      });
    await indexVault(dir, { full: true });
    const full = await bestOf(3, () => indexVault(dir, { full: true }));
    let n = 0;
    const edit = await bestOf(5, async () => {
      n++;
      await updateNotebook(vault, '2026_01_05_s00001', {
        hypothesis: `revised ${n}`,
        tags: ['bench', `e${n}`],
      });
      const report = await indexVault(dir);
      if (report.specimens.indexed !== 1)
        throw new Error(`expected one specimen re-indexed, got ${report.specimens.indexed}`);
    });
    results.push({
      name: `notebook.edit.${specimens}`,
      description: 'notebook edit + incremental index vs a full index of the same vault',
      value: edit,
      baseline: full,
      unit: 'ms',
      ratio: edit / full,
      target: '≤ 0.35',
      pass: edit / full <= 0.35,
      details: { specimens },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Notes of a long-running specimen in the older markup: sections, log headers, statement chains, prose.
  const entries = options.quick ? 500 : 5_000;
  const lines: string[] = ['# Field notes'];
  for (let i = 0; i < entries; i++) {
    if (i % 50 === 0) lines.push(`●SECTION|Phase ${i / 50}`);
    lines.push(
      `●LOG|2025-12-${String((i % 28) + 1).padStart(2, '0')} 20:17|run:2025122${i}|device:mps|status:ok`,
    );
    lines.push(
      `●analyze|dataset:Q4_2024_sales|groupby:region|metrics:revenue,profit_margin━●rank|entity:products|metric:revenue|order:desc|limit:${i % 20}`,
    );
    lines.push(`Observation ${i}: the loss fell to ${(1 / (i + 1)).toFixed(4)} and **accuracy** rose.`);
  }
  const text = `${lines.join('\n')}\n`;
  const md = fieldNotesToMarkdown(text);
  const convert = await bestOf(5, () => fieldNotesToMarkdown(text));
  const render = await bestOf(5, () => marked.parse(md, { async: false, gfm: true }));
  results.push({
    name: `notebook.notes.${entries}`,
    description: 'older-markup notes → Markdown vs rendering that Markdown with marked',
    value: convert,
    baseline: render,
    unit: 'ms',
    ratio: convert / render,
    target: '≤ 1.0',
    pass: convert / render <= 1.0,
    details: { bytes: text.length },
  });
  return results;
}
