/**
 * `specimen query "<SQL>" [--format table|json|csv|parquet] [--out FILE]`: runs SQL against the catalog
 * (read-only: a single SELECT-type statement, files readable only inside the vault). `--format json` prints a
 * JSON array of row objects; `parquet` needs `--out`. SQL errors print DuckDB's message with the position
 * and exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../format/atomic-write.js';
import { ensureCatalog } from '../ensure-catalog.js';
import { UsageError } from '../exit.js';
import { makeTable } from '../table.js';

const FORMATS = ['table', 'json', 'csv', 'parquet'] as const;

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export default async function query(
  sql: string,
  opts: { format?: string; out?: string; vault?: string; timeout?: string },
): Promise<number> {
  const format = (opts.format ?? 'table') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(opts.format)}`);
  if (format === 'parquet' && !opts.out)
    throw new UsageError('--format parquet writes a file: give --out FILE');
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 1))
    throw new UsageError(
      `--timeout must be a positive number of milliseconds, got ${JSON.stringify(opts.timeout)}`,
    );
  // Only single SELECT statements, reading files only inside the vault: `query` never changes anything.
  const root = await ensureCatalog(opts.vault);
  if (format === 'parquet') {
    const out = path.resolve(opts.out!);
    const { exportParquet } = await import('../../catalog/export.js');
    await exportParquet(root, sql, out);
    console.error(`wrote ${out} (${fs.statSync(out).size} bytes)`);
    return 0;
  }
  // In a separate process with the server's limits (and the vault config's `query` limits): a runaway
  // query is interrupted at its time limit, and DuckDB failing natively cannot take this process down.
  const { readVaultConfig } = await import('../../format/vault-config.js');
  const { limitsFromConfig } = await import('../../catalog/sandbox/limits.js');
  const { sharedQueryPool, closeSharedQueryPools } = await import('../../catalog/sandbox/pool.js');
  const limits = {
    ...limitsFromConfig((await readVaultConfig(root)).raw),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
  try {
    const result = await sharedQueryPool(root, limits).run(sql);
    if (result.truncated)
      console.error(
        `warning: the result was cut at ${result.rows.length} rows (the ${result.truncatedBy === 'bytes' ? 'result size' : 'row'} limit); add a LIMIT, or write it all with --format parquet --out FILE`,
      );
    let text: string;
    if (format === 'json') text = `${JSON.stringify(result.rows, null, 2)}\n`;
    else if (format === 'csv') {
      const names = result.columns.map((c) => c.name);
      text = `${[names.map(csvField).join(','), ...result.rows.map((r) => names.map((n) => csvField(r[n])).join(','))].join('\n')}\n`;
    } else {
      const names = result.columns.map((c) => c.name);
      const t = makeTable(names);
      for (const r of result.rows) t.push(names.map((n) => cell(r[n])));
      text = `${t.toString()}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`;
    }
    if (opts.out) {
      await writeFileAtomic(path.resolve(opts.out), text);
      console.error(`wrote ${path.resolve(opts.out)}`);
    } else process.stdout.write(text);
    return 0;
  } finally {
    await closeSharedQueryPools();
  }
}
