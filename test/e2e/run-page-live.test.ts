// End to end in Chromium with a real Python training process (this checkout's `specimen_vault`, begun
// through the built CLI) that samples system metrics every 0.2 s: the run page's System card appears and
// grows while the run is running, read from system.jsonl, and stays once the run is sealed; hovering a
// System chart shows every system metric at that second from the values route; the run is headed by its
// name (the ID beside it), in the breadcrumb and the tab's title too. Skips without
// /usr/bin/chromium (browser.test.ts fails CI for that).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRun } from '../../src/runner/external-run.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { buildWebIfMissing, CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, tempDir } from '../support/helpers.js';
import { type PythonRun, startPythonRun } from '../support/python-run.js';

const ID = '2026_01_02_live_page';

describe.runIf(fs.existsSync(CHROMIUM) && process.platform === 'linux')('the run page of a live run', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let py: PythonRun | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    dir = tempDir('sv-e2e-live-page-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: ID,
      domain: 'training',
      method: 'fine_tuning',
      description: 'x',
    });
    server = await startServer({ vaultRoot: vault.root, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 90_000);

  afterAll(async () => {
    py?.kill();
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('draws the System card while the run is running, and it grows', async () => {
    py = await startPythonRun({
      vaultRoot: vault.root,
      specimenId: ID,
      cwd: path.join(dir, 'work'),
      name: 'warm-lion',
    });
    await page.goto(`${server.url}#/specimen/${ID}/run/${py.runId}`);
    await expect.poll(() => page.getByTestId('live').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('system-heading').count(), { timeout: 20_000 }).toBe(1);
    const rss = page.getByTestId('system-chart').filter({ hasText: 'rss_bytes' }).first().locator('.uplot');
    const points = async () => Number((await rss.getAttribute('data-points').catch(() => null)) ?? 0);
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(0);
    const first = await points();
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(first);
    // Drawn from the live lines: nothing is sealed yet.
    expect(py.child.exitCode).toBeNull();
    expect(fs.existsSync(path.join(py.runDir, 'system.parquet'))).toBe(false);
    await page.screenshot({ path: path.join(REPO_ROOT, 'test', 'artifacts', 'live-system-card.png') });
  }, 90_000);

  it('keeps the System card once the run is sealed', async () => {
    const { code, stderr } = await py!.stop();
    expect(code, stderr).toBe(0);
    await expect.poll(() => page.getByTestId('live').count(), { timeout: 20_000 }).toBe(0);
    expect(fs.existsSync(path.join(py!.runDir, 'system.parquet'))).toBe(true);
    const lines = fs
      .readFileSync(path.join(py!.runDir, 'system.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    const foot = page
      .locator('.metric-chart')
      .filter({ hasText: 'rss_bytes' })
      .first()
      .locator('.chart-foot');
    await expect.poll(() => foot.textContent(), { timeout: 20_000 }).toContain(`${lines} values`);
  }, 60_000);

  it('hovering a System chart shows CPU %, RSS in human units at that second, from the server', async () => {
    const chart = page.getByTestId('system-chart').filter({ hasText: 'cpu_percent' }).first();
    const over = chart.locator('.u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/values')) asked.push(r.url());
    });
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 3 });
    const tip = chart.locator('.chart-tip[data-detail="1"]');
    await expect.poll(() => tip.count(), { timeout: 10_000 }).toBe(1);
    const text = (await tip.textContent()) ?? '';
    // The CPU chart's tooltip holds the RSS too, in MB, and the nearest sample's second.
    expect(text).toMatch(/s elapsed/);
    expect(text).toMatch(/CPU [\d.]+ %/);
    expect(text).toMatch(/RSS [\d.]+ MB/);
    expect(text).toMatch(/@ [\d.]+ s/);
    expect(asked.some((u) => u.includes('source=system'))).toBe(true);
    await page.screenshot({ path: path.join(REPO_ROOT, 'test', 'artifacts', 'system-hover.png') });
  }, 60_000);

  it('heads a named run with its name, the run ID beside it, in the breadcrumb and the title too', async () => {
    const runId = py!.runId;
    await page.goto(`${server.url}#/specimen/${ID}/run/${runId}`);
    const name = page.getByTestId('run-heading-name');
    await expect.poll(() => name.count(), { timeout: 15_000 }).toBe(1);
    expect(await name.textContent()).toBe('warm-lion');
    expect(await page.getByTestId('run-heading-id').textContent()).toBe(runId);
    const crumb = (await page.getByTestId('crumb-run').textContent()) ?? '';
    expect(crumb).toContain('warm-lion');
    expect(crumb).toContain(runId);
    await expect.poll(() => page.title()).toBe(`warm-lion · ${ID} — Specimen Vault`);
    // A run without a name is headed by its ID alone.
    const other = await beginRun(vault, ID, { config: {} }, { provenance: false });
    await page.goto(`${server.url}#/specimen/${ID}/run/${other.run_id}`);
    await expect
      .poll(() => page.getByTestId('run-heading').textContent(), { timeout: 15_000 })
      .toContain(other.run_id);
    expect(await page.getByTestId('run-heading-name').count()).toBe(0);
    expect(await page.getByTestId('crumb-run').textContent()).toBe(other.run_id);
    await expect.poll(() => page.title()).toBe(`${other.run_id} · ${ID} — Specimen Vault`);
  }, 60_000);
});
