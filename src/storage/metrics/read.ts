/**
 * Reading metrics back as apache-arrow Tables, and Parquet footer information.
 *
 * @example
 * const table = await readRunMetrics(runDir, '20250101_120000')
 * table?.getChild('loss')?.get(0)
 * const info = await parquetInfo(`${runDir}/metrics.parquet`)
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import { parquetFileInfo, readParquetFiles } from '../../duckdb/read-parquet.js';
import { METRICS_FILE } from '../../format/layout.js';
import { listParts } from './parts.js';
import type { MetricsFileInfo } from './types.js';

/**
 * Reads a run's metrics into an Arrow Table: metrics.parquet if present, else the flushed parts of an
 * unfinished writer (so a crashed run's flushed rows are readable). Adds run_id if the file lacks it
 * (legacy files). Returns undefined if the run has no metrics.
 */
export async function readRunMetrics(runDir: string, runId: string): Promise<Table | undefined> {
  const file = path.join(runDir, METRICS_FILE);
  const addMissing = [{ name: 'run_id', value: runId }];
  if (fs.existsSync(file)) return readParquetFiles([file], { addMissing });
  const parts = await listParts(runDir);
  if (parts.length === 0) return undefined;
  // Parts gain columns as a run goes on; union_by_name appends those after run_id, so move it back last.
  return readParquetFiles(parts, { addMissing, last: ['run_id'] });
}

/**
 * Reads several Parquet files (union by column name) into one Arrow Table. With `runIds`, files lacking a
 * run_id column get `runIds[i]`, and run_id is moved last.
 */
export function readParquetTable(
  files: readonly string[],
  options: { runIds?: readonly string[] } = {},
): Promise<Table> {
  if (!options.runIds) return readParquetFiles(files);
  return readParquetFiles(files, { perFile: { name: 'run_id', values: options.runIds }, last: ['run_id'] });
}

/** Row count and column names/types from the Parquet footer only. */
export function parquetInfo(file: string): Promise<MetricsFileInfo> {
  return parquetFileInfo(file);
}
