/**
 * Exporting a query's result as Parquet (`specimen query --format parquet --out FILE`): DuckDB writes the
 * file itself (COPY … TO) to a temporary name beside the target, renamed into place when complete. The
 * query runs under the same rules as `runUserQuery` (a single SELECT, in a locked-down session that reads
 * only inside the vault); the session may write that one temporary file and nothing else.
 *
 * @example
 * await exportParquet('/vault', "SELECT * FROM metrics WHERE metric = 'loss'", '/tmp/loss.parquet')
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { quoteLiteral } from '../duckdb/node-api.js';
import { tempPathFor } from '../format/atomic-write.js';
import { openCatalog } from './connection.js';
import { toSqlError } from './errors.js';
import { prepareSingleSelect } from './query.js';

/** Writes the result of the SELECT `sql` over the catalog of the vault at `root` to the Parquet file `out`. */
export async function exportParquet(root: string, sql: string, out: string): Promise<void> {
  const tmp = tempPathFor(path.resolve(out));
  const db = await openCatalog(root, { readOnly: true, sandbox: true, allowedPaths: [tmp] });
  try {
    try {
      await prepareSingleSelect(db.connection, sql);
      // A single valid SELECT is balanced, so it cannot reach past the parentheses; the newlines end any
      // trailing line comment.
      const body = sql.trim().replace(/;+\s*$/, '');
      await db.connection.run(
        `COPY (\n${body}\n) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } catch (err) {
      throw toSqlError(err, sql);
    }
    await fsp.rename(tmp, out);
  } finally {
    await fsp.rm(tmp, { force: true });
    db.close();
  }
}
