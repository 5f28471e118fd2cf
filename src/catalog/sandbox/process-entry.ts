/**
 * The process that runs user SQL for `specimen serve`, `specimen query` and `runUserQuery` (started by
 * pool.ts, never by hand). It answers one
 * QueryRequest at a time through `runUserQueryInSession`, whose session keeps the limits it was opened with; a native
 * failure of DuckDB here ends this process only, and the server starts another.
 *
 * @example
 * // fork('process-entry.js', { serialization: 'advanced' }).send({ id, root, sql, limits })
 */
import { runUserQueryInSession } from '../query.js';
import { errorToWire, type QueryReply, type QueryRequest } from './wire.js';

process.on('message', (msg: QueryRequest) => {
  const reply = (r: QueryReply) => process.send?.(r);
  runUserQueryInSession(msg.root, msg.sql, {
    readOnly: true,
    limits: msg.limits,
    ...(msg.params === undefined ? {} : { params: msg.params }),
    ...(msg.maxRows === undefined ? {} : { maxRows: msg.maxRows }),
    ...(msg.timeoutMs === undefined ? {} : { timeoutMs: msg.timeoutMs }),
  }).then(
    (result) => reply({ id: msg.id, ok: true, result }),
    (err: unknown) => reply({ id: msg.id, ok: false, error: errorToWire(err) }),
  );
});
// The server going away closes the channel: nothing is left to answer.
process.on('disconnect', () => process.exit(0));
// Loading this module (and DuckDB's bindings through it) is the slow part of a start; the pool starts a
// query's clock only after this.
process.send?.({ ready: true });
