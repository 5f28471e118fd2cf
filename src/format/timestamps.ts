/**
 * Manifest timestamps as DuckDB TIMESTAMP text, and the seconds between two of them. Shared by the catalog
 * (its `started`/`ended` columns) and storage (a run's duration), so both give the same figures.
 *
 * @example
 * toTimestamp('2025-12-19T23:15:32.839733+00:00')                          // '2025-12-19 23:15:32.839733'
 * secondsBetween(toTimestamp('2025-01-02T10:00:00Z'), toTimestamp('2025-01-02T10:01:30.5Z')) // 90.5
 */

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
