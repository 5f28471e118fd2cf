/**
 * `specimen report <ID|RUN…> [--query SQL] [--view NAME] [--metric M…] --out report.html`: one
 * self-contained HTML report (src/report/) written atomically. The same vault and arguments give the same
 * bytes.
 *
 * @example
 * specimen report 2025_01_02_grok --out grok.html
 * specimen report --view turns --out turns.html
 */
import fs from 'node:fs';
import { catalogPath, indexVault } from '../../catalog/index.js';
import { writeFileAtomic } from '../../format/atomic-write.js';
import { buildReportData } from '../../report/build-report.js';
import { renderReportHtml } from '../../report/html.js';
import { Vault } from '../../storage/vault.js';
import { formatBytes } from '../output.js';

export default async function report(
  refs: string[],
  opts: { query?: string; view?: string; metric?: string[]; out: string; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  // A query (given, or in a view's tables) reads the catalog: index a vault that never was, as `specimen
  // query` does.
  if ((opts.query !== undefined || opts.view !== undefined) && !fs.existsSync(catalogPath(vault.root)))
    await indexVault(vault.root, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  const data = await buildReportData(vault, {
    refs,
    ...(opts.query === undefined ? {} : { query: opts.query }),
    ...(opts.view === undefined ? {} : { view: opts.view }),
    ...(opts.metric === undefined ? {} : { metrics: opts.metric }),
  });
  const html = renderReportHtml(data);
  await writeFileAtomic(opts.out, html);
  const charts = data.items.filter((i) => i.kind === 'chart').length;
  process.stderr.write(
    `report: ${opts.out} (${formatBytes(Buffer.byteLength(html))}; ${data.runs.length} runs, ${charts} charts)\n`,
  );
  return 0;
}
