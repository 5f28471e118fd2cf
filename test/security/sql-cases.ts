// The SQL attempts of the adversarial suite, as a table: each is one way to escape the sandbox (write,
// reach files or settings, learn paths) or to exhaust a resource, with the outcome it must have.
// `$ROOT` is the vault root, `$OUT` a directory beside it holding secrets, `$SPEC` the demo specimen's
// directory and `$RUN` its run's directory.

/** What an attempt must give: rows (`ok`, optionally checked) or an error with this tag. */
export type Expect =
  | { ok: true; check?: (rows: Record<string, unknown>[]) => void }
  | { tag: string; match?: RegExp };

export const OK: Expect = { ok: true };
const NOT_ALLOWED: Expect = { tag: 'QueryNotAllowedError' };
const SQL: Expect = { tag: 'SqlError' };
const PERMISSION: Expect = { tag: 'SqlError', match: /Permission Error/ };
const REVEALS: Expect = { tag: 'QueryNotAllowedError', match: /reveals paths/ };
const TIMEOUT: Expect = { tag: 'QueryTimeoutError', match: /interrupted after/ };

const statements: [string, string, Expect][] = [
  ['COPY a view to a file', "COPY catalog TO '$OUT/out.csv'", NOT_ALLOWED],
  ['COPY a query to a file', "COPY (SELECT 1) TO '$OUT/out.parquet' (FORMAT parquet)", NOT_ALLOWED],
  ['COPY into the vault', "COPY catalog TO '$ROOT/out.csv'", NOT_ALLOWED],
  ['COPY FROM a file', "COPY catalog FROM '$OUT/secret.csv'", NOT_ALLOWED],
  ['ATTACH another database', "ATTACH '$OUT/other.duckdb' AS o", NOT_ALLOWED],
  ['ATTACH in memory', "ATTACH ':memory:' AS m", NOT_ALLOWED],
  ['DETACH the catalog', 'DETACH vault', NOT_ALLOWED],
  ['INSTALL an extension', 'INSTALL httpfs', NOT_ALLOWED],
  ['LOAD an extension', 'LOAD httpfs', NOT_ALLOWED],
  ['LOAD an extension file', "LOAD '$OUT/evil.duckdb_extension'", NOT_ALLOWED],
  ['SET external access', 'SET enable_external_access = true', NOT_ALLOWED],
  ['SET lock_configuration', 'SET lock_configuration = false', NOT_ALLOWED],
  ['SET allowed_directories', "SET allowed_directories = ['/']", NOT_ALLOWED],
  ['SET memory_limit', "SET memory_limit = '100GB'", NOT_ALLOWED],
  ['SET threads', 'SET threads = 64', NOT_ALLOWED],
  ['RESET a setting', 'RESET allowed_directories', NOT_ALLOWED],
  ['SET VARIABLE sv_root', "SET VARIABLE sv_root = '/'", NOT_ALLOWED],
  ['PRAGMA', 'PRAGMA enable_profiling', NOT_ALLOWED],
  ['PRAGMA database_list', 'PRAGMA database_list', NOT_ALLOWED],
  ['CALL a table function', 'CALL pragma_version()', NOT_ALLOWED],
  ['CREATE TABLE', 'CREATE TABLE t AS SELECT 1', NOT_ALLOWED],
  ['CREATE TEMP TABLE', 'CREATE TEMP TABLE t AS SELECT 1', NOT_ALLOWED],
  ['CREATE VIEW', 'CREATE VIEW v AS SELECT 1', NOT_ALLOWED],
  ['CREATE MACRO', 'CREATE MACRO m() AS 1', NOT_ALLOWED],
  ['CREATE SECRET', "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')", NOT_ALLOWED],
  ['CREATE SEQUENCE', 'CREATE SEQUENCE s', NOT_ALLOWED],
  ['CREATE SCHEMA', 'CREATE SCHEMA s', NOT_ALLOWED],
  ['CREATE TYPE', "CREATE TYPE mood AS ENUM ('a')", NOT_ALLOWED],
  ['DROP a view', 'DROP VIEW metrics', NOT_ALLOWED],
  ['DROP a table', 'DROP TABLE sv_base.catalog', NOT_ALLOWED],
  ['DELETE', 'DELETE FROM catalog', NOT_ALLOWED],
  ['UPDATE', "UPDATE catalog SET status = 'x'", NOT_ALLOWED],
  ['INSERT', "INSERT INTO sv_base.catalog (specimen_id) VALUES ('x')", NOT_ALLOWED],
  ['ALTER', 'ALTER TABLE sv_base.catalog ADD COLUMN x INT', NOT_ALLOWED],
  ['EXPORT DATABASE', "EXPORT DATABASE '$OUT/dump'", NOT_ALLOWED],
  ['IMPORT DATABASE', "IMPORT DATABASE '$OUT/dump'", PERMISSION],
  ['CHECKPOINT', 'CHECKPOINT', NOT_ALLOWED],
  ['VACUUM', 'VACUUM', NOT_ALLOWED],
  ['BEGIN a transaction', 'BEGIN TRANSACTION', NOT_ALLOWED],
  ['USE another catalog', 'USE memory', NOT_ALLOWED],
  ['PREPARE', 'PREPARE p AS SELECT 1', NOT_ALLOWED],
  ['EXPLAIN ANALYZE', 'EXPLAIN ANALYZE SELECT 1', NOT_ALLOWED],
  ['two statements', 'SELECT 1; SELECT 2', { tag: 'QueryNotAllowedError', match: /only one statement/ }],
  ['a SELECT then a DROP', 'SELECT 1; DROP VIEW metrics', { tag: 'QueryNotAllowedError', match: /only one/ }],
  ['a statement hidden after a comment', "SELECT 1 -- x\n; COPY catalog TO '$OUT/c.csv'", NOT_ALLOWED],
  ['a statement in a block comment', "/* */ COPY catalog TO '$OUT/c.csv'", NOT_ALLOWED],
  ['SET through query()', "SELECT * FROM query('SET enable_external_access = true')", NOT_ALLOWED],
  ['COPY through query()', "SELECT * FROM query('COPY catalog TO ''$OUT/q.csv''')", NOT_ALLOWED],
  ['query_table', "SELECT * FROM query_table('catalog')", NOT_ALLOWED],
  ['PIVOT (cannot be checked)', 'PIVOT catalog ON domain USING count(*)', NOT_ALLOWED],
  ['no statement', '-- nothing', SQL],
  ['a syntax error', 'SELEC 1', { tag: 'SqlError', match: /syntax error/ }],
];

const disclosure: [string, string, Expect][] = [
  ['allowed_directories', "SELECT current_setting('allowed_directories')", REVEALS],
  ['temp_directory', "SELECT current_setting('temp_directory')", REVEALS],
  ['file_search_path', "SELECT current_setting('file_search_path')", REVEALS],
  ['home_directory', "SELECT current_setting('home_directory')", REVEALS],
  ['extension_directory', "SELECT current_setting('extension_directory')", REVEALS],
  ['secret_directory', "SELECT current_setting('secret_directory')", REVEALS],
  ['allowed_paths', "SELECT current_setting('allowed_paths')", REVEALS],
  ['a setting name in upper case', "SELECT current_setting('TEMP_DIRECTORY')", REVEALS],
  ['a setting name computed', "SELECT current_setting(lower('TEMP_DIRECTORY'))", REVEALS],
  ['a setting name from a subquery', "SELECT current_setting((SELECT 'temp_directory'))", REVEALS],
  [
    'current_setting in a lambda',
    "SELECT list_transform(['temp_directory'], x -> current_setting(x))",
    REVEALS,
  ],
  ['current_setting in WHERE', "SELECT 1 WHERE current_setting('temp_directory') LIKE '/%'", REVEALS],
  [
    'current_setting in a CTE',
    "WITH s AS (SELECT current_setting('temp_directory') AS t) SELECT * FROM s",
    REVEALS,
  ],
  [
    'duckdb_settings()',
    'SELECT * FROM duckdb_settings()',
    { tag: 'QueryNotAllowedError', match: /duckdb_settings/ },
  ],
  [
    'duckdb_settings() in upper case',
    'SELECT * FROM DUCKDB_SETTINGS()',
    { tag: 'QueryNotAllowedError', match: /duckdb_settings/ },
  ],
  [
    'duckdb_settings() quoted',
    'SELECT * FROM "duckdb_settings"()',
    { tag: 'QueryNotAllowedError', match: /duckdb_settings/ },
  ],
  [
    'duckdb_settings() qualified',
    'SELECT * FROM main.duckdb_settings()',
    { tag: 'QueryNotAllowedError', match: /duckdb_settings/ },
  ],
  [
    'duckdb_settings() in a scalar subquery',
    'SELECT (SELECT max(value) FROM duckdb_settings())',
    NOT_ALLOWED,
  ],
  [
    'duckdb_settings() in a lateral join',
    'SELECT * FROM catalog, LATERAL (SELECT * FROM duckdb_settings())',
    NOT_ALLOWED,
  ],
  ['duckdb_databases()', 'SELECT * FROM duckdb_databases()', NOT_ALLOWED],
  ['duckdb_extensions()', 'SELECT * FROM duckdb_extensions()', NOT_ALLOWED],
  ['duckdb_secrets()', 'SELECT * FROM duckdb_secrets()', NOT_ALLOWED],
  ['duckdb_temporary_files()', 'SELECT * FROM duckdb_temporary_files()', NOT_ALLOWED],
  ['duckdb_variables()', 'SELECT * FROM duckdb_variables()', NOT_ALLOWED],
  ['pragma_database_list', 'SELECT * FROM pragma_database_list()', NOT_ALLOWED],
  ['pragma_database_size', 'SELECT * FROM pragma_database_size()', NOT_ALLOWED],
  ['getvariable of the root', "SELECT getvariable('sv_root')", NOT_ALLOWED],
  [
    'the catalog macro that prefixes the root',
    "SELECT sv_paths('x')",
    { tag: 'QueryNotAllowedError', match: /internal/ },
  ],
  ['the catalog table macro', "SELECT * FROM sv_exp('specimens/x/metrics.parquet')", NOT_ALLOWED],
  ['glob of the vault', "SELECT * FROM glob('$ROOT/*')", NOT_ALLOWED],
  ['glob outside', "SELECT * FROM glob('/etc/*')", NOT_ALLOWED],
  [
    'an unknown table function',
    'SELECT * FROM duckdb_memory()',
    { tag: 'QueryNotAllowedError', match: /table function/ },
  ],
  [
    'view definitions hold no absolute path',
    "SELECT sql FROM duckdb_views() WHERE sql LIKE '%$ROOT%'",
    { ok: true, check: (rows) => expectRows(rows, 0) },
  ],
  ['harmless settings stay readable', "SELECT current_setting('threads') AS t", OK],
  ['the metadata tables stay readable', 'SELECT count(*) AS n FROM duckdb_tables()', OK],
];

const files: [string, string, Expect][] = [
  ['read_csv /etc/passwd', "SELECT * FROM read_csv('/etc/passwd')", PERMISSION],
  ['read_csv_auto /etc/passwd', "SELECT * FROM read_csv_auto('/etc/passwd')", PERMISSION],
  ['read_text /etc/passwd', "SELECT * FROM read_text('/etc/passwd')", PERMISSION],
  ['read_blob /etc/passwd', "SELECT * FROM read_blob('/etc/passwd')", PERMISSION],
  ['read_json /etc/passwd', "SELECT * FROM read_json('/etc/passwd')", PERMISSION],
  ['read_json_auto /etc/passwd', "SELECT * FROM read_json_auto('/etc/passwd')", PERMISSION],
  ['read_ndjson /etc/passwd', "SELECT * FROM read_ndjson('/etc/passwd')", PERMISSION],
  ['read_parquet /etc/passwd', "SELECT * FROM read_parquet('/etc/passwd')", PERMISSION],
  ['parquet_metadata /etc/passwd', "SELECT * FROM parquet_metadata('/etc/passwd')", PERMISSION],
  ['parquet_schema /etc/passwd', "SELECT * FROM parquet_schema('/etc/passwd')", PERMISSION],
  ['sniff_csv /etc/passwd', "SELECT * FROM sniff_csv('/etc/passwd')", PERMISSION],
  ['a replacement scan of /etc/passwd', "SELECT * FROM '/etc/passwd'", PERMISSION],
  ['a replacement scan of a secret', "SELECT * FROM '$OUT/secret.csv'", PERMISSION],
  ['/proc/self/environ', "SELECT * FROM read_text('/proc/self/environ')", PERMISSION],
  ['/proc/self/cmdline', "SELECT * FROM read_blob('/proc/self/cmdline')", PERMISSION],
  ['/dev/stdin', "SELECT * FROM read_csv('/dev/stdin')", PERMISSION],
  ['a file beside the vault', "SELECT * FROM read_text('$OUT/secret.txt')", PERMISSION],
  ['.. out of the vault', "SELECT * FROM read_text('$ROOT/../outside/secret.txt')", PERMISSION],
  ['.. hidden deeper', "SELECT * FROM read_text('$SPEC/../../../outside/secret.txt')", PERMISSION],
  ['a relative path', "SELECT * FROM read_text('../outside/secret.txt')", PERMISSION],
  ['a home-relative path', "SELECT * FROM read_text('~/.bashrc')", PERMISSION],
  ['a file: URL', "SELECT * FROM read_text('file:///etc/passwd')", PERMISSION],
  ['an http URL', "SELECT * FROM read_csv('http://127.0.0.1:1/x.csv')", PERMISSION],
  ['an s3 URL', "SELECT * FROM read_parquet('s3://bucket/x.parquet')", PERMISSION],
  ['a pattern outside', "SELECT * FROM read_parquet('/etc/*.parquet')", PERMISSION],
  ['a pattern inside', "SELECT * FROM read_parquet('$ROOT/specimens/*/runs/*/metrics.parquet')", PERMISSION],
  ['a recursive pattern', "SELECT * FROM read_text('$ROOT/**')", PERMISSION],
  [
    'a list with a file outside',
    "SELECT * FROM read_text(['$SPEC/field_notes.md', '/etc/passwd'])",
    PERMISSION,
  ],
  ['a symlink to a file outside', "SELECT * FROM read_csv('$ROOT/link.csv')", PERMISSION],
  ['a symlinked directory', "SELECT * FROM read_text('$ROOT/linkdir/secret.txt')", PERMISSION],
  [
    'a hard link to a file outside',
    "SELECT * FROM read_csv('$SPEC/hard.csv')",
    { tag: 'SqlError', match: /hard links/ },
  ],
  ['a path built from strings', "SELECT * FROM read_text('/etc/' || 'passwd')", NOT_ALLOWED],
  ['a path from a subquery', "SELECT * FROM read_text((SELECT '/etc/passwd'))", NOT_ALLOWED],
  ['a path from a column', 'SELECT * FROM read_text((SELECT path FROM artifacts LIMIT 1))', NOT_ALLOWED],
  ['a NUL in a path', "SELECT * FROM read_text('$SPEC/field_notes.md\u0000/etc/passwd')", SQL],
  ["the run's own metrics file", "SELECT count(*) AS n FROM read_parquet('$RUN/metrics.parquet')", OK],
  ['the field notes', "SELECT count(*) AS n FROM read_text('$SPEC/field_notes.md')", OK],
];

const resources: [string, string, Expect][] = [
  ['a 1e12-row cross join', 'SELECT count(*) FROM range(1000000) a, range(1000000) b', TIMEOUT],
  ['a 1e18-row range', 'SELECT count(*) FROM range(1000000000000000000)', TIMEOUT],
  [
    'an endless recursive CTE',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t',
    { tag: 'Query(Timeout|Limit)Error' },
  ],
  ['a cross join over the views', 'SELECT count(*) FROM metrics a, metrics b, metrics c, metrics d', TIMEOUT],
  [
    'a huge aggregate string',
    "SELECT string_agg(repeat('x', 100), ',') FROM range(10000000)",
    { tag: 'QueryLimitError', match: /memory/ },
  ],
  ['a huge list', 'SELECT list(i) FROM range(50000000) t(i)', { tag: 'QueryLimitError|QueryTimeoutError' }],
  ['a 2 GB string', "SELECT repeat('x', 2000000000)", { tag: 'QueryLimitError|QueryTimeoutError|SqlError' }],
  [
    'a value 5,000 levels deep',
    "SELECT (repeat('[', 5000) || repeat(']', 5000))::JSON AS j",
    { tag: 'QueryLimitError', match: /nested deeper than 64/ },
  ],
  [
    'a struct nested 100 deep',
    `SELECT ${'{a: '.repeat(100)}1${'}'.repeat(100)} AS s`,
    { tag: 'QueryLimitError', match: /nested/ },
  ],
  [
    'a row larger than the result limit',
    "SELECT repeat('x', 40000000) AS s",
    { tag: 'QueryLimitError', match: /result limit/ },
  ],
  [
    'a million rows',
    'SELECT * FROM range(1000000)',
    { ok: true, check: (rows) => expectRows(rows, 100_000) },
  ],
  [
    'a wide result',
    "SELECT repeat('y', 10000) AS s FROM range(5000)",
    { ok: true, check: (rows) => expectMaxRows(rows, 3500) },
  ],
  [
    'parentheses 10,000 deep',
    `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`,
    { tag: 'SqlError|QueryLimitError' },
  ],
  [
    'a very long IN list',
    `SELECT 1 WHERE 1 IN (${Array.from({ length: 20_000 }, (_, i) => i).join(',')})`,
    OK,
  ],
  ['a huge regular expression input', "SELECT regexp_matches(repeat('a', 10000000), '(a+)+$') AS m", OK],
];

function expectRows(rows: unknown[], n: number): void {
  if (rows.length !== n) throw new Error(`expected ${n} rows, got ${rows.length}`);
}

function expectMaxRows(rows: unknown[], n: number): void {
  if (rows.length === 0 || rows.length > n) throw new Error(`expected 1–${n} rows, got ${rows.length}`);
}

/** Every SQL attempt: [category, name, sql, expected]. */
export const SQL_CASES: [string, string, string, Expect][] = [
  ...statements.map(([n, s, e]) => ['statement', n, s, e] as [string, string, string, Expect]),
  ...disclosure.map(([n, s, e]) => ['disclosure', n, s, e] as [string, string, string, Expect]),
  ...files.map(([n, s, e]) => ['file', n, s, e] as [string, string, string, Expect]),
  ...resources.map(([n, s, e]) => ['resource', n, s, e] as [string, string, string, Expect]),
];
