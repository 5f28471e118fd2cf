/** DuckDB column types as the SQL console reads them (numbers align right and can be charted). */

/** True for DuckDB's integer, floating-point and decimal types. */
export function isNumericType(t: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(
    t,
  );
}
