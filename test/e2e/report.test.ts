// A standalone report opened in Chromium from file:// with every network request refused and recorded:
// none may be attempted, the charts must be drawn (canvas pixels of the series colour), hovering shows a
// value, the turn markers and field notes are there (sanitized), the tensor thumbnail is drawn, and the
// downsampled long series says so and keeps its spike. Writing the same report twice gives the same bytes.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/report/report-types.js';
import { saveView } from '../../src/storage/views.js';
import { buildWebIfMissing, HAVE_CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, runCli, tempDir } from '../support/helpers.js';
import {
  LONG_SPECIMEN,
  REPORT_SPECIMEN,
  reportVault,
  SPIKE_STEP,
  SPIKE_VALUE,
} from '../support/report-vault.js';

const CLIENT = path.join(REPO_ROOT, 'dist', 'report-client', 'report.js');

/** Builds the report client when a test run starts without `npm run build`. */
function ensureClient(): void {
  buildWebIfMissing('web/vite.report.config.ts', CLIENT);
}

/** The report data embedded in an HTML report. */
function embedded(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!) as ReportData;
}

let dir: string;
let root: string;
let file: string;
let turnRuns: string[];

beforeAll(async () => {
  ensureClient();
  dir = tempDir('sv-report-');
  const made = await reportVault();
  root = made.vault.root;
  turnRuns = made.turnRuns;
  file = path.join(dir, 'report.html');
  const r = await runCli(['--vault', root, 'report', REPORT_SPECIMEN, LONG_SPECIMEN, '--out', file]);
  expect(r.stderr).toContain('report:');
  expect(r.code).toBe(0);
}, 120_000);

afterAll(() => {
  for (const d of [dir, root]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('specimen report (file)', () => {
  it('is byte-identical when written again from the same vault and arguments', async () => {
    const again = path.join(dir, 'again.html');
    const r = await runCli(['--vault', root, 'report', REPORT_SPECIMEN, LONG_SPECIMEN, '--out', again]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(again).equals(fs.readFileSync(file))).toBe(true);
  });

  it('embeds full series up to the limit and min/max buckets beyond it, keeping the spike', () => {
    const data = embedded(fs.readFileSync(file, 'utf8'));
    const loss = data.items.find((i) => i.kind === 'chart' && i.metric === 'loss');
    expect(loss?.kind).toBe('chart');
    if (loss?.kind !== 'chart') return;
    const s = loss.series[0]!;
    expect(s.downsampled).toBe(true);
    expect(s.total).toBe(30_000);
    expect(s.steps.length).toBeLessThanOrEqual(2 * data.limits.buckets + 2);
    expect(s.values[s.steps.indexOf(SPIKE_STEP)]).toBe(SPIKE_VALUE);
    const test = data.items.find((i) => i.kind === 'chart' && i.metric === 'test_loss');
    if (test?.kind !== 'chart') throw new Error('no test_loss chart');
    expect(test.series.map((x) => [x.downsampled, x.steps.length])).toEqual([
      [false, 1001],
      [false, 1001],
    ]);
    // Turns come from the catalog's turn detection: one per grokking run, near where the drop was put.
    expect(test.markers.map((m) => m.step)).toEqual([800, 1200].map((t) => expect.closeTo(t, -2)));
    // Provenance of every run, and no trace of when the file was written.
    expect(data.runs.map((r) => r.specimenId)).toEqual([REPORT_SPECIMEN, REPORT_SPECIMEN, LONG_SPECIMEN]);
    expect(data.runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(data.runs[2]!.seed).toBe('3');
  });

  it('exports a saved view: its text, charts grouped by config, SQL table and tensor, in its order', async () => {
    await saveView(root, 'turns', {
      version: 1,
      title: 'When does the test loss turn?',
      runs: [REPORT_SPECIMEN],
      items: [
        { kind: 'text', title: 'Question', markdown: 'Does the turn move with **turn_at**?' },
        { kind: 'chart', metrics: ['test_loss'], group_by: ['turn_at'] },
        {
          kind: 'table',
          sql: "SELECT run_id, status FROM runs WHERE specimen_id = '2025_01_02_grok' ORDER BY run_id",
        },
        { kind: 'tensor', run: `${REPORT_SPECIMEN}/${turnRuns[0]}`, tensor: 'weights', index: [2] },
      ],
    });
    const out = path.join(dir, 'view.html');
    const r = await runCli(['--vault', root, 'report', '--view', 'turns', '--out', out]);
    expect(r.code).toBe(0);
    const data = embedded(fs.readFileSync(out, 'utf8'));
    expect(data.title).toBe('When does the test loss turn?');
    expect(data.items.map((i) => i.kind)).toEqual([
      'text',
      'chart',
      'table',
      'tensor',
      'summaries',
      'config-diff',
      'notes',
      'provenance',
    ]);
    const chart = data.items[1]!;
    if (chart.kind !== 'chart') throw new Error('not a chart');
    expect(chart.series.map((s) => s.label.split(' · ')[0])).toEqual(['turn_at=800', 'turn_at=1200']);
    const table = data.items[2]!;
    if (table.kind !== 'table') throw new Error('not a table');
    expect(table.rows).toEqual(turnRuns.map((id) => [id, 'succeeded']));
    const tensor = data.items[3]!;
    if (tensor.kind !== 'tensor') throw new Error('not a tensor');
    expect(tensor.slice).toBe('[2, :, :]');
    const unknown = await runCli(['--vault', root, 'report', '--view', 'turn', '--out', out]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('"turns"');
  });

  it('refuses bad references with a clear message', async () => {
    const bad = await runCli([
      '--vault',
      root,
      'report',
      `${REPORT_SPECIMEN}/../etc`,
      '--out',
      path.join(dir, 'x.html'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('../etc');
    expect(bad.stderr).not.toContain('    at ');
    const missing = await runCli([
      '--vault',
      root,
      'report',
      '2025_01_02_grk',
      '--out',
      path.join(dir, 'x.html'),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(REPORT_SPECIMEN);
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false);
  });
});

describe.runIf(HAVE_CHROMIUM)('specimen report in Chromium from file:// with the network blocked', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
    // Every request but the report file itself is recorded and refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === `file://${file}`) return route.continue();
      requests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('request', (r) => {
      const url = r.url();
      if (url !== `file://${file}` && !url.startsWith('data:')) requests.push(url);
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`file://${file}`);
    await page.getByTestId('report-chart').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('attempts no network request and raises no error', async () => {
    await page.waitForTimeout(300);
    expect([...new Set(requests)]).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('draws every chart on canvas', async () => {
    expect(await page.getByTestId('report-chart').count()).toBe(3);
    // Pixels in a series colour: saturated, where axes, grid and text are grey.
    const drawn = await page.evaluate(() => {
      type Canvas = {
        width: number;
        height: number;
        getContext(k: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Canvas[] } }).document;
      return [...doc.querySelectorAll('[data-testid="report-chart"] canvas')].map((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          const hi = Math.max(d[i]!, d[i + 1]!, d[i + 2]!);
          const lo = Math.min(d[i]!, d[i + 1]!, d[i + 2]!);
          if (d[i + 3]! > 200 && hi - lo > 60) n++;
        }
        return n;
      });
    });
    expect(drawn.length).toBe(3);
    for (const n of drawn) expect(n).toBeGreaterThan(100);
    // Turn markers drawn at the detected steps.
    const markers = await page.locator('[data-metric="test_loss"] .uplot').getAttribute('data-markers');
    expect(markers?.split(',').length).toBe(2);
  });

  it('shows the values under the cursor', async () => {
    const over = page.locator('[data-metric="test_loss"] .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    const tip = page.locator('[data-metric="test_loss"] .chart-tip');
    await expect.poll(() => tip.isVisible()).toBe(true);
    const text = (await tip.textContent()) ?? '';
    expect(text).toMatch(/2025_01_02_grok\/\d{8}_\d{6}: \d/);
  });

  it('zooms by dragging and tells that the long series was downsampled', async () => {
    const chart = page.locator('[data-metric="loss"]');
    await expect
      .poll(() => chart.getByTestId('report-downsampled').textContent())
      .toContain('30000 points embedded');
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + 20, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => chart.textContent()).toContain('zoomed');
  });

  it('renders the field notes as Markdown, sanitized, with the runs, config and provenance', async () => {
    const notes = page.getByTestId('report-notes');
    expect(await notes.locator('h1').textContent()).toBe('Purpose');
    expect(await notes.locator('strong').textContent()).toBe('test loss');
    expect(await notes.locator('table td').first().textContent()).toBe('0.1');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('.markdown script, .markdown [onerror]').count()).toBe(0);
    expect(await page.getByTestId('report-runs').locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('report-config-diff').textContent()).toContain('turn_at');
    expect(await page.getByTestId('report-provenance').locator('details').count()).toBe(3);
  });

  it('draws the tensor thumbnail', async () => {
    const img = page.getByTestId('report-tensor').locator('img');
    await expect
      .poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(60);
    expect(await page.getByTestId('report-tensor').textContent()).toContain('shape [3, 40, 60]');
  });
});
