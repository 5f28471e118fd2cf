/**
 * Timing inside the browser for the web benchmarks: a script installed in every page records when a chart
 * is drawn with data (`data-points` on uPlot's root) and when a heatmap is drawn (`data-drawn` on its
 * canvas), so times are taken in the page, free of the automation protocol's round trips.
 *
 * @example
 * await page.addInitScript(MARKS_SCRIPT)
 * const t0 = await follow(page, '#/compare?run=…')
 * const ms = (await firstPointsAt(page, 30_000)) - t0
 */
import type { Page } from 'playwright-core';

export const MARKS_SCRIPT = `
  window.__svMarks = [];
  new MutationObserver((records) => {
    const t = performance.now();
    for (const r of records) {
      if (r.attributeName === 'data-points') window.__svMarks.push({ what: 'points:' + r.target.getAttribute('data-points'), t });
      if (r.attributeName === 'data-drawn') window.__svMarks.push({ what: 'drawn:' + r.target.getAttribute('data-drawn'), t });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-points', 'data-drawn'] });
`;

/** What MARKS_SCRIPT records in the page. */
export type Marks = { __svMarks: { what: string; t: number }[] };

/** Clears the marks and follows `hash` inside the page; resolves the page's clock at that moment. */
export async function follow(page: Page, hash: string): Promise<number> {
  return (await page.evaluate(
    `(() => { window.__svMarks = []; const t = performance.now(); location.hash = ${JSON.stringify(hash)}; return t; })()`,
  )) as number;
}

/** Waits for the first chart drawn with data since the last `follow`; resolves the page's clock then. */
export async function firstPointsAt(page: Page, timeout: number): Promise<number> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as Marks).__svMarks.some(
        (m) => m.what.startsWith('points:') && m.what !== 'points:0',
      ),
    undefined,
    { timeout },
  );
  return (await page.evaluate(
    `window.__svMarks.find((m) => m.what.startsWith('points:') && m.what !== 'points:0').t`,
  )) as number;
}
