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

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO-8601 date-time as DuckDB TIMESTAMP text (`YYYY-MM-DD HH:MM:SS.ffffff`, microseconds kept). A time
 * with an offset is converted to UTC; a naive one (as the Python implementation wrote) is kept as written.
 * Returns null for anything else.
 */
export function toTimestamp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = ISO.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const fraction = frac.padEnd(6, '0').slice(0, 6);
  if (!zone || zone.toUpperCase() === 'Z' || /^[+-]00(?::?00)?$/.test(zone)) {
    // UTC or naive: no arithmetic, just DuckDB's layout (a bad date such as 02-30 is left to the checks below).
    if (
      Number(mo) >= 1 &&
      Number(mo) <= 12 &&
      Number(d) >= 1 &&
      Number(d) <= 28 &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 60
    )
      return `${y}-${mo}-${d} ${h}:${mi}:${s}.${fraction}`;
  }
  const micros = Number(fraction);
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return null;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    ms -= sign * offsetMin * 60_000;
  }
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros).padStart(6, '0')}`;
}

/** Seconds between two timestamps as toTimestamp returns them, or null when either is missing. */
export function secondsBetween(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  // Whole microseconds, so a difference has no float noise beyond the final division.
  const micros = (t: string) =>
    Date.parse(`${t.slice(0, 10)}T${t.slice(11, 19)}Z`) * 1000 + Number(t.slice(20, 26));
  const d = (micros(end) - micros(start)) / 1e6;
  return Number.isFinite(d) ? d : null;
}
