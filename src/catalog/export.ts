/**
 * Exporting a query's result as Parquet (`specimen query --format parquet --out FILE`): DuckDB writes the file
 * itself (COPY … TO), to a temporary name that is renamed into place. Only a single SELECT is accepted.
 *
 * @example
 * await exportParquet('/vault', "SELECT * FROM metrics WHERE metric = 'loss'", '/tmp/loss.parquet')
 */
import fsp from 'node:fs/promises';
import { loadDuckDB, quoteLiteral } from '../engine/duckdb.js';
import { tempPathFor } from '../format/atomic-write.js';
import { openCatalog } from './connection.js';
import { QueryNotAllowedError, toSqlError } from './errors.js';

export async function exportParquet(root: string, sql: string, out: string): Promise<void> {
  const { StatementType } = await loadDuckDB();
  const db = await openCatalog(root, { readOnly: true });
  const tmp = tempPathFor(out);
  try {
    const extracted = await db.connection.extractStatements(sql).catch((err: unknown) => {
      throw toSqlError(err, sql);
    });
    if (extracted.count !== 1) throw new QueryNotAllowedError(sql, 'MULTI');
    const prepared = await extracted.prepare(0).catch((err: unknown) => {
      throw toSqlError(err, sql);
    });
    if (prepared.statementType !== StatementType.SELECT)
      throw new QueryNotAllowedError(
        sql,
        StatementType[prepared.statementType] ?? String(prepared.statementType),
      );
    const body = sql.trim().replace(/;+\s*$/, '');
    await db.connection
      .run(`COPY (${body}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd)`)
      .catch((err: unknown) => {
        throw toSqlError(err, sql);
      });
    await fsp.rename(tmp, out);
  } finally {
    await fsp.rm(tmp, { force: true });
    db.close();
  }
}
