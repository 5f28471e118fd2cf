/**
 * Bulk loading of catalog rows. Rows are appended as newline-delimited JSON to a scratch file per table
 * while specimens are read, and inserted at the end with one `read_json` statement per table under explicit
 * column types: parsed in C++, where the appender would cost one N-API call per value (tens of thousands of
 * rows × a dozen columns), and one statement per table, since each statement has a fixed cost of its own.
 *
 * @example
 * const runs = new RowSink(scratchDir, 'runs', RUN_COLUMNS)
 * runs.append(rows)            // as often as needed
 * await runs.insert(con)       // INSERT INTO runs … FROM read_json(…)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../../duckdb/node-api.js';
import { jsonText } from '../json.js';
import type { ColumnSpec } from '../schema.js';

/** A function writing a row of `columns` as one JSON object. */
export function rowEncoder(columns: ColumnSpec): (row: Record<string, unknown>) => string {
  const parts = columns.map(([name, type]) => {
    const key = JSON.stringify(name);
    const write =
      type === 'JSON' || type.endsWith('[]')
        ? jsonText
        : type === 'DOUBLE' || type === 'BIGINT' || type === 'INTEGER'
          ? scalarNumber
          : (v: unknown) => (v === undefined ? 'null' : JSON.stringify(v));
    return { name, key, write };
  });
  return (row) => {
    let out = '{';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      out += `${i === 0 ? '' : ','}${p.key}:${p.write(row[p.name])}`;
    }
    return `${out}}`;
  };
}

/** A number for a numeric column: non-finite as DuckDB's text form, bigint as digits. */
function scalarNumber(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'bigint') return v.toString();
  return v === null || v === undefined ? 'null' : JSON.stringify(v);
}

function readJsonSql(file: string, columns: ColumnSpec): string {
  const spec = columns.map(([n, t]) => `${quoteLiteral(n)}: ${quoteLiteral(t)}`).join(', ');
  return (
    `read_json(${quoteLiteral(file)}, format = 'newline_delimited', auto_detect = false, columns = {${spec}}, ` +
    `maximum_object_size = 268435456)`
  );
}

/** Rows of one table, gathered in a scratch NDJSON file and inserted with one statement. */
export class RowSink {
  private readonly file: string;
  private rows = 0;
  /** One row as JSON, column by column: only JSON columns need the careful writer (see json.ts). */
  private readonly encode: (row: Record<string, unknown>) => string;

  constructor(
    scratchDir: string,
    private readonly table: string,
    private readonly columns: ColumnSpec,
    /** Schema of the table, when not the default one. */
    private readonly schema?: string,
  ) {
    fs.mkdirSync(scratchDir, { recursive: true });
    this.file = path.join(scratchDir, `${table}.ndjson`);
    this.encode = rowEncoder(columns);
    fs.writeFileSync(this.file, '');
  }

  /** Number of rows appended so far. */
  get count(): number {
    return this.rows;
  }

  append(rows: readonly object[]): void {
    if (rows.length === 0) return;
    let text = '';
    for (const r of rows) text += `${this.encode(r as Record<string, unknown>)}\n`;
    fs.appendFileSync(this.file, text);
    this.rows += rows.length;
  }

  /** Inserts everything appended (nothing when there is nothing). */
  async insert(con: DuckDBConnection): Promise<void> {
    if (this.rows === 0) return;
    const names = this.columns.map(([n]) => quoteIdent(n)).join(', ');
    await con.run(
      `INSERT INTO ${this.schema ? `${quoteIdent(this.schema)}.` : ''}${quoteIdent(this.table)} (${names}) SELECT ${names} FROM ${readJsonSql(this.file, this.columns)}`,
    );
  }
}

/** `COPY` of `rows` (as gathered by a RowSink or RowLoader source) with `columns` to a Parquet file. */
export function copyToParquetSql(source: string | undefined, columns: ColumnSpec, file: string): string {
  const select =
    source === undefined
      ? `SELECT ${columns.map(([n, t]) => `CAST(NULL AS ${t}) AS ${quoteIdent(n)}`).join(', ')} WHERE false`
      : `SELECT ${columns.map(([n]) => quoteIdent(n)).join(', ')} FROM ${source}`;
  return `COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet);`;
}

/** Writes small row sets to scratch NDJSON files, as a `FROM` source for one statement. */
export class RowLoader {
  private seq = 0;
  constructor(private readonly scratchDir: string) {
    fs.mkdirSync(scratchDir, { recursive: true });
  }

  /** Like `source`, or undefined when there are no rows (read_json needs at least one line to read). */
  sourceOrEmpty(columns: ColumnSpec, rows: readonly object[]): string | undefined {
    return rows.length === 0 ? undefined : this.source(columns, rows);
  }

  /** The `FROM` source reading `rows` with the given columns (for INSERT … SELECT or UPDATE … FROM). */
  source(columns: ColumnSpec, rows: readonly object[]): string {
    const file = path.join(this.scratchDir, `rows-${++this.seq}.ndjson`);
    const encode = rowEncoder(columns);
    const lines: string[] = [];
    for (const r of rows) lines.push(encode(r as Record<string, unknown>));
    fs.writeFileSync(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    return readJsonSql(file, columns);
  }
}
