/**
 * The on-disk layout of a run's metrics while it is being written: every flush is a complete Parquet file
 * `metrics.parts/part-000001.parquet` (written to a temp file, then renamed), so a crash loses at most the
 * rows not yet flushed. Closing merges the parts into `metrics.parquet` and removes the folder.
 *
 * @example
 * const parts = await listParts(runDir) // absolute paths in write order
 * const info = await mergeParts(runDir) // writes runDir/metrics.parquet, removes metrics.parts/
 */

import fs from 'node:fs/promises';
import path from 'node:path';
import { quoteIdent, quoteLiteral } from '../../duckdb/node-api.js';
import {
  connectShared,
  type ParquetFileInfo,
  parquetFileInfo,
  readParquetSql,
} from '../../duckdb/read-parquet.js';
import { tempPathFor } from '../../format/atomic-write.js';
import { METRICS_FILE, PARTS_DIR } from '../../format/layout.js';
import { concatParquetFiles } from '../../parquet/concat.js';
import { ConvertedType, PhysicalType, readParquetFooter } from '../../parquet/footer.js';

const PART_RE = /^part-(\d+)\.parquet$/;

/** The path of part number `n` of a run. */
export function partPath(runDir: string, n: number): string {
  return path.join(runDir, PARTS_DIR, `part-${String(n).padStart(6, '0')}.parquet`);
}

/** Finished part files of a run (absolute, in write order); temp files of unfinished writes are skipped. */
export async function listParts(runDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(path.join(runDir, PARTS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, m: PART_RE.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
    .map((x) => path.resolve(runDir, PARTS_DIR, x.name));
}

/** The highest part number present (0 if none), so a writer resuming a run appends after it. */
export async function lastPartNumber(runDir: string): Promise<number> {
  const parts = await listParts(runDir);
  const last = parts.at(-1);
  return last ? Number(PART_RE.exec(path.basename(last))![1]) : 0;
}

/** Below this many rows per part on average, re-encoding gives better row groups than concatenation. */
const MIN_ROWS_TO_CONCAT = 65_536;

/**
 * Merges the run's parts into `metrics.parquet` (atomically) and removes the parts folder. `columns` is
 * the writer's schema in log order; columns no part holds (only ever null) are added as nulls, and
 * `run_id` goes last. Parts that already have exactly that schema are concatenated row group by row
 * group (or renamed, if there is one); otherwise (a column widened or appeared mid-run) DuckDB merges them
 * with `union_by_name`. Returns undefined when there are no parts.
 */
export async function mergeParts(
  runDir: string,
  columns: readonly { name: string; type: string }[] = [],
): Promise<ParquetFileInfo | undefined> {
  const parts = await listParts(runDir);
  const target = path.join(runDir, METRICS_FILE);
  if (parts.length === 0) return undefined;
  const wanted = [...columns.map((c) => c.name).filter((n) => n !== RUN_ID), RUN_ID];
  const first = (await footerInfo(parts[0]!)) ?? (await parquetFileInfo(parts[0]!));
  const sameSchema =
    first.columns.length === wanted.length && first.columns.every((c, i) => c.name === wanted[i]);
  let done = false;
  if (sameSchema && parts.length === 1) {
    await fs.rename(parts[0]!, target);
    done = true;
  } else if (sameSchema) {
    let rows = 0;
    for (const p of parts) rows += Number((await readParquetFooter(p)).meta.numRows ?? 0n);
    if (rows / parts.length >= MIN_ROWS_TO_CONCAT)
      done = (await concatParquetFiles(parts, target)) !== undefined;
  }
  if (!done) await reencode(parts, target, columns);
  await fs.rm(path.join(runDir, PARTS_DIR), { recursive: true, force: true });
  return (await footerInfo(target)) ?? parquetFileInfo(target);
}

/**
 * Rows, column names and DuckDB types of a flat file of BIGINT, DOUBLE, BOOLEAN and VARCHAR columns, from
 * its footer alone; undefined for anything else (then DuckDB is asked). Reading the footer costs a few
 * file reads, where DuckDB's client costs a module load and a database on a thread that has neither.
 */
async function footerInfo(file: string): Promise<ParquetFileInfo | undefined> {
  const abs = path.resolve(file);
  const footer = await readParquetFooter(abs);
  const { schema, numRows } = footer.meta;
  if (schema.length === 0 || numRows === undefined) return undefined;
  if (schema[0]!.numChildren !== schema.length - 1) return undefined;
  const columns: { name: string; type: string }[] = [];
  for (const el of schema.slice(1)) {
    const { name, type: physical, convertedType: converted } = el;
    if (name === undefined || el.numChildren !== undefined || el.hasLogicalType) return undefined;
    let type: string;
    if (physical === PhysicalType.INT64 && (converted === undefined || converted === ConvertedType.INT_64))
      type = 'BIGINT';
    else if (physical === PhysicalType.DOUBLE && converted === undefined) type = 'DOUBLE';
    else if (physical === PhysicalType.BOOLEAN && converted === undefined) type = 'BOOLEAN';
    else if (physical === PhysicalType.BYTE_ARRAY && converted === ConvertedType.UTF8) type = 'VARCHAR';
    else return undefined;
    columns.push({ name, type });
  }
  return { path: abs, rows: Number(numRows), columns, bytes: footer.size };
}

const RUN_ID = 'run_id';

async function reencode(
  parts: readonly string[],
  target: string,
  columns: readonly { name: string; type: string }[],
): Promise<void> {
  const tmp = tempPathFor(target);
  const con = await connectShared();
  try {
    const source = readParquetSql(parts);
    const described = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const present = described.getRowObjectsJS().map((r) => String(r.column_name));
    const have = new Set(present);
    const listed = new Set(columns.map((c) => c.name));
    const select = [
      ...columns
        .filter((c) => c.name !== RUN_ID)
        .map((c) => (have.has(c.name) ? quoteIdent(c.name) : `NULL::${c.type} AS ${quoteIdent(c.name)}`)),
      // Columns of parts left by an earlier writer on the same run that this writer never logged.
      ...present.filter((n) => !listed.has(n) && n !== RUN_ID).map(quoteIdent),
      ...(have.has(RUN_ID) ? [quoteIdent(RUN_ID)] : []),
    ].join(', ');
    await con.run(
      `COPY (SELECT ${select} FROM ${source}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    con.closeSync();
  }
}
