// End to end in Chromium with a real Python training process: a script using this checkout's
// `specimen_vault` package (created through the built CLI) logs rows and prints while the run page is open;
// the page's chart grows and the console shows the output while it runs, and the run ends sealed. The
// catalog page picks up a new specimen and the new run by itself (no Re-index). An eval logged every 25
// steps draws as a line of its values. Skips without
// /usr/bin/chromium (browser.test.ts fails CI for that).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { CLI, REPO_ROOT, tempDir } from '../support/helpers.js';

const SPECIMEN = '2026_01_02_live_probe';
const LATER = '2026_01_03_later_probe';
// The package is pure Python with no required dependency: any CPython 3 runs it from python/.
const PYTHON = process.env.SPECIMEN_TEST_PYTHON ?? 'python3';

// Logs a row and prints a line every 20 ms until the test creates the `stop` file, then ends normally.
const TRAIN = `
import os, sys, time
import specimen_vault as sv
run = sv.init(${JSON.stringify(SPECIMEN)}, config={"lr": 0.01}, seed=7, name="live-probe")
sys.__stdout__.write(f"RUN {run.run_id}\\n"); sys.__stdout__.flush()
step = 0
while not os.path.exists("stop"):
    sv.log({"loss": 1.0 / (step + 1), "acc": step / (step + 10)}, step=step)
    if step % 25 == 0:  # an eval every 25 steps: its own rows, the other columns missing
        sv.log({"eval_acc": step / (step + 50)}, step=step)
    if step % 10 == 0:
        print(f"training step {step}", flush=True)
    step += 1
    time.sleep(0.02)
print("done training")
sv.finish()
`;

describe.runIf(fs.existsSync(CHROMIUM))('a live Python run in the web app', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = tempDir('sv-live-python-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: SPECIMEN,
      domain: 'training',
      method: 'fine_tuning',
      description: 'a live probe',
    });
    server = await startServer({ vaultRoot: vault.root, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a new specimen and a new run in the catalog without Re-index', async () => {
    let indexRequests = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/api/index')) indexRequests++;
    });
    await page.goto(server.url);
    const table = page.getByTestId('catalog');
    await expect.poll(() => table.textContent(), { timeout: 15_000 }).toContain(SPECIMEN);
    await vault.createSpecimen({
      specimenId: LATER,
      domain: 'training',
      method: 'fine_tuning',
      description: 'created while the page is open',
    });
    await expect.poll(() => table.textContent(), { timeout: 15_000 }).toContain(LATER);
    expect(indexRequests).toBe(0);
    await page.screenshot({ path: path.join(REPO_ROOT, 'test', 'artifacts', 'live-catalog.png') });
  }, 60_000);

  it('grows the chart and the console of a running Python run, then shows it sealed', async () => {
    const cwd = path.join(dir, 'work');
    fs.mkdirSync(cwd, { recursive: true });
    child = spawn(PYTHON, ['-c', TRAIN], {
      cwd,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPECIMEN_'))),
        PYTHONPATH: path.join(REPO_ROOT, 'python'),
        SPECIMEN_CLI: `${process.execPath} ${CLI}`,
        SPECIMEN_VAULT: vault.root,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const runId = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /RUN (\d{8}_\d{6}\S*)/.exec(out);
        if (m) {
          clearInterval(t);
          resolve(m[1]!);
        } else if (child!.exitCode !== null) {
          clearInterval(t);
          reject(new Error(`python exited ${child!.exitCode}: ${err}`));
        }
      }, 50);
    });

    // The catalog page (still open) shows the run as the specimen's latest, running (the only run).
    const table = page.getByTestId('catalog');
    await expect.poll(() => table.textContent(), { timeout: 15_000 }).toContain('running');

    await page.goto(`${server.url}#/specimen/${SPECIMEN}/run/${runId}`);
    await expect.poll(() => page.getByTestId('live').count(), { timeout: 15_000 }).toBe(1);
    const chart = page.getByTestId('metric-chart').filter({ hasText: 'loss' }).first().locator('.uplot');
    const points = async () => Number((await chart.getAttribute('data-points')) ?? 0);
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(0);
    const first = await points();
    // Still running: the next refreshes draw more points.
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(first);
    const stdout = page.getByTestId('console-stdout');
    await expect.poll(() => stdout.textContent(), { timeout: 20_000 }).toContain('training step 0');
    const seen = (await stdout.textContent()) ?? '';
    const lastStep = Math.max(...[...seen.matchAll(/training step (\d+)/g)].map((m) => Number(m[1])));
    await expect
      .poll(
        async () =>
          Math.max(
            ...[...((await stdout.textContent()) ?? '').matchAll(/training step (\d+)/g)].map((m) =>
              Number(m[1]),
            ),
          ),
        { timeout: 20_000 },
      )
      .toBeGreaterThan(lastStep);
    expect(child.exitCode).toBeNull();
    await page.screenshot({ path: path.join(REPO_ROOT, 'test', 'artifacts', 'live-python-run.png') });

    // The eval logged every 25 steps is one connected line of its values, with a marker at each.
    const evalChart = page.getByTestId('metric-chart').filter({ hasText: 'eval_acc' }).first();
    const evalPoints = Number((await evalChart.locator('.uplot').getAttribute('data-points')) ?? 0);
    expect(evalPoints).toBeGreaterThan(1);
    const evalCard = page.locator('.metric-chart').filter({ hasText: 'eval_acc' }).first();
    expect(await evalCard.locator('.chart-foot').textContent()).toMatch(/^\d+ values?/);
    const series = (await (
      await fetch(
        `${server.url}api/series?run=${encodeURIComponent(`${SPECIMEN}/${runId}`)}&metric=eval_acc&width=400`,
      )
    ).json()) as { series: { steps: number[]; values: (number | null)[] }[] };
    expect(series.series[0]!.values.every((v) => v !== null)).toBe(true);
    expect(series.series[0]!.steps.every((s) => s % 25 === 0)).toBe(true);

    // Stop training: the run is sealed, the page stops being live and keeps every row and the last line.
    fs.writeFileSync(path.join(cwd, 'stop'), '');
    const code = await new Promise<number | null>((resolve) => child!.on('exit', (c) => resolve(c)));
    expect(code, err).toBe(0);
    await expect.poll(() => page.getByTestId('live').count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('run-heading').textContent()).toContain('succeeded');
    await expect.poll(() => stdout.textContent(), { timeout: 15_000 }).toContain('done training');
    const rows = fs
      .readFileSync(path.join(vault.specimenDir(SPECIMEN), 'runs', runId, 'stdout.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('training step')).length;
    expect(rows).toBeGreaterThan(1);
  }, 120_000);
});
