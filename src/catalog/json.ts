/**
 * JSON text and timestamps for the catalog. Manifests may hold int64 values beyond 2^53 (decoded as bigint)
 * and NaN or ±Infinity (msgpack floats); JSON has neither, so bigints are written as plain integer digits
 * (DuckDB's JSON reader keeps them exact) and non-finite numbers as the strings "NaN", "Infinity",
 * "-Infinity", which DuckDB casts back to DOUBLE.
 *
 * @example
 * jsonText({ n: 2n ** 60n, loss: Number.NaN })   // '{"n":1152921504606846976,"loss":"NaN"}'
 * toTimestamp('2025-12-19T23:15:32.839733+00:00') // '2025-12-19 23:15:32.839733'
 */

/** JSON text of a manifest value (see the module comment for bigint and non-finite numbers). */
export function jsonText(value: unknown): string {
  // The native serializer is several times faster; it is only wrong for bigint (throws) and non-finite
  // numbers (turns them into null), which a quick walk finds first.
  if (!hasSpecial(value)) return JSON.stringify(value) ?? 'null';
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function hasSpecial(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v === 'bigint') return true;
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof Uint8Array) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (hasSpecial(x)) return true;
    return false;
  }
  for (const k in v) if (hasSpecial((v as Record<string, unknown>)[k])) return true;
  return false;
}

function write(v: unknown, out: string[]): void {
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      out.push(Number.isFinite(v) ? String(v) : JSON.stringify(String(v)));
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
      out.push('null');
      return;
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      write(v[i], out);
    }
    out.push(']');
    return;
  }
  if (v instanceof Uint8Array) {
    // msgpack bin values: kept as base64 text.
    out.push(JSON.stringify(Buffer.from(v).toString('base64')));
    return;
  }
  out.push('{');
  let first = true;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    write(x, out);
  }
  out.push('}');
}

// Manifest timestamps are read by storage too (a run's duration); the catalog keeps its names for them.
export { secondsBetween, toTimestamp } from '../format/timestamps.js';
