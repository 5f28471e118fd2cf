// End to end in Chromium with a real Python process staging its run in pending/ (no CLI reachable, as on a
// cluster node): the specimen page lists it as "pending — not sealed yet", and its page draws the live
// metrics chart, System card and console while it runs; once it has finished and `specimen index` adopted it, the page
// says so and the runs table has it. Skips without /usr/bin/chromium (browser.test.ts fails CI for that).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { buildWebIfMissing, CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, runCli, tempDir } from '../support/helpers.js';
import { type PythonRun, startPythonRun } from '../support/python-run.js';

const ID = '2026_01_02_pending_page';

describe.runIf(fs.existsSync(CHROMIUM))('a pending run in the web app', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let py: PythonRun | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    dir = tempDir('sv-e2e-pending-');
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

  it('lists the staged run and draws its live chart and console before it is sealed', async () => {
    py = await startPythonRun({
      vaultRoot: vault.root,
      specimenId: ID,
      cwd: path.join(dir, 'work'),
      name: 'node-17-job',
      cli: false,
    });
    const stage = path.basename(py.runDir);
    await page.goto(`${server.url}#/specimen/${ID}`);
    const row = page.getByTestId('pending-row');
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.textContent()).toContain('pending — not sealed yet');
    expect(await row.textContent()).toContain('node-17-job');
    await row.getByRole('link').click();
    await expect.poll(() => page.getByTestId('pending-heading').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('pending-heading').textContent()).toContain(stage);
    const chart = page.getByTestId('metric-chart').filter({ hasText: 'loss' }).first().locator('.uplot');
    const points = async () => Number((await chart.getAttribute('data-points').catch(() => null)) ?? 0);
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(0);
    const first = await points();
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(first);
    const stdout = page.getByTestId('console-stdout');
    await expect.poll(() => stdout.textContent(), { timeout: 20_000 }).toContain('training step 10');
    // Its system metrics too, from the system.jsonl its sampler appends to.
    await expect.poll(() => page.getByTestId('system-heading').count(), { timeout: 20_000 }).toBe(1);
    // Still being written, and still staged.
    expect(py.child.exitCode).toBeNull();
    expect(fs.existsSync(py.runDir)).toBe(true);
    await page.screenshot({ path: path.join(REPO_ROOT, 'test', 'artifacts', 'pending-run.png') });

    const { code, stderr } = await py.stop();
    expect(code, stderr).toBe(0);
    const idx = await runCli(['index', '--vault', vault.root]);
    expect(idx.code, idx.stderr).toBe(0);
    await expect.poll(() => page.getByTestId('pending-gone').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('pending-row').count(), { timeout: 20_000 }).toBe(0);
    await expect
      .poll(() => page.getByTestId('run-name').textContent(), { timeout: 20_000 })
      .toBe('node-17-job');
  }, 120_000);
});
