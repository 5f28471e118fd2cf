// End to end in Chromium: a real `specimen run` samples its process tree into system.parquet, and the run
// page's System card draws CPU % and RSS over elapsed seconds on canvas, as the compare page's System charts
// do per run; a run sampled with --no-system shows no System card. Skips without /usr/bin/chromium (browser.test.ts fails CI for that).
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { runCli, tempDir } from '../support/helpers.js';

const SERIES_BLUE = [78, 121, 167]; // first colour of the palette (#4e79a7)
const ID = '2025_01_02_system_page';
const WORK = 'const b = Buffer.alloc(64 * 1024 * 1024, 1); setTimeout(() => console.log(b.length), 1200);';

describe.runIf(fs.existsSync(CHROMIUM) && process.platform === 'linux')('System card on the run page', () => {
  let dir: string;
  let sampled: string;
  let unsampled: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  async function run(args: string[]): Promise<void> {
    const r = await runCli(['run', ID, ...args, '--', process.execPath, '-e', WORK], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }

  beforeAll(async () => {
    dir = tempDir('sv-e2e-system-');
    expect((await runCli(['init', dir])).code).toBe(0);
    const n = await runCli(['new', ID, '--domain', 'training', '--method', 'fine_tuning'], { cwd: dir });
    expect(n.code, n.stderr).toBe(0);
    await run(['--system-interval', '0.2']);
    await run(['--no-system']);
    const runs = await (await SpecimenStorage.open(ID, { vault: dir })).listRunInfo();
    const hasSystem = (p: string) => fs.existsSync(`${p}/system.parquet`);
    sampled = runs.find((r) => hasSystem(r.path))!.runId;
    unsampled = runs.find((r) => !hasSystem(r.path))!.runId;
    server = await startServer({ vaultRoot: dir, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  /** Pixels of the canvases under `selector` close to `rgb` (a drawn series). */
  const pixelsLike = (selector: string, rgb: number[]) =>
    page.evaluate(
      ([sel, c]) => {
        // Runs in the page (the test project has no DOM types).
        type Canvas = {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Canvas[] } })
          .document;
        let n = 0;
        for (const canvas of Array.from(doc.querySelectorAll(sel as string))) {
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3]! < 200) continue;
            const rgbOf = c as number[];
            if (
              Math.abs(data[i]! - rgbOf[0]!) < 30 &&
              Math.abs(data[i + 1]! - rgbOf[1]!) < 30 &&
              Math.abs(data[i + 2]! - rgbOf[2]!) < 30
            )
              n++;
          }
        }
        return n;
      },
      [selector, rgb] as const,
    );

  it('charts CPU % and RSS of a sampled run on canvas', async () => {
    await page.goto(`${server.url}#/specimen/${ID}/run/${sampled}`);
    await expect.poll(() => page.getByTestId('system-heading').count(), { timeout: 15_000 }).toBe(1);
    const charts = page.getByTestId('system-chart');
    await expect.poll(() => charts.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const text = await page.getByTestId('system-charts').textContent();
    expect(text).toContain('cpu_percent');
    expect(text).toContain('rss_bytes');
    expect(text).toMatch(/\d+ values/);
    await expect
      .poll(() => pixelsLike('[data-testid="system-chart"] canvas', SERIES_BLUE), { timeout: 15_000 })
      .toBeGreaterThan(20);
  }, 60_000);

  it('on the compare page, charts each run with system metrics as a line, only when one has them', async () => {
    const both = [sampled, unsampled].map((r) => `run=${encodeURIComponent(`${ID}/${r}`)}`).join('&');
    await page.goto(`${server.url}#/compare?${both}`);
    await expect.poll(() => page.getByTestId('compare-system-heading').count(), { timeout: 15_000 }).toBe(1);
    const text = await page.getByTestId('compare-system-charts').textContent();
    expect(text).toContain('cpu_percent');
    expect(text).toContain('rss_bytes');
    // The sampled run is the first selected: its line has the palette's first colour.
    await expect
      .poll(() => pixelsLike('[data-testid="compare-system-chart"] canvas', SERIES_BLUE), { timeout: 15_000 })
      .toBeGreaterThan(20);
    await page.goto(`${server.url}#/compare?run=${encodeURIComponent(`${ID}/${unsampled}`)}`);
    await expect.poll(() => page.getByTestId('compare-charts').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('compare-system-heading').count()).toBe(0);
  }, 60_000);

  it('shows no System card for a run without system metrics', async () => {
    await page.goto(`${server.url}#/specimen/${ID}/run/${unsampled}`);
    await expect.poll(() => page.getByTestId('run-heading').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('metrics-heading').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('system-heading').count()).toBe(0);
  }, 60_000);
});
