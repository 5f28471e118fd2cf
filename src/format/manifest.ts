/**
 * Manifest schemas. A specimen manifest (`specimens/<id>/manifest.msgpack`) describes the specimen; a run
 * manifest (`runs/<run_id>/manifest.msgpack`) describes one execution. Both are open: fields this library
 * does not know survive a read/write round trip untouched. Validation errors name the field, the value and
 * what is allowed: `manifest: field "taxonomy.domain" must be one of …, got "traning"`.
 *
 * @example
 * const m = validateSpecimenManifest(decoded, { file, taxonomy })   // throws ManifestError / TaxonomyError
 * const run = normalizeRunManifest(decoded, '20251222_201718')        // legacy Python runs too
 */
import { createRequire } from 'node:module';
import type * as Z from 'zod';
import { ManifestError } from '../errors.js';
import type { PlainObject, PlainValue } from './msgpack.js';
import { assertTaxonomy, type Taxonomy } from './taxonomy.js';

/**
 * Lifecycle of a specimen: `planned` (recorded before any run: hypothesis and expected results), `active`
 * (has runs; a planned specimen becomes active with its first run), `concluded` (a conclusion was written),
 * then `archived` or `deprecated`. Older manifests (no status) read as `active`.
 */
export const SPECIMEN_STATUSES = ['planned', 'active', 'concluded', 'archived', 'deprecated'] as const;
export type SpecimenStatus = (typeof SPECIMEN_STATUSES)[number];

/** The lab-notebook fields of a specimen manifest: optional free text, each at most LAB_FIELD_MAX_CHARS. */
export const LAB_FIELDS = ['hypothesis', 'expected_results', 'conclusion'] as const;
export type LabField = (typeof LAB_FIELDS)[number];
/** Longest lab-notebook field accepted (characters). */
export const LAB_FIELD_MAX_CHARS = 20_000;

/**
 * The status a specimen is shown with: a `planned` specimen that already has runs (written by a process
 * that did not update the manifest, such as a run imported or adopted elsewhere) counts as `active`.
 */
export function effectiveSpecimenStatus(status: string | null | undefined, runCount: number): string {
  const s = status ?? 'active';
  return s === 'planned' && runCount > 0 ? 'active' : s;
}

/** Lifecycle of a run: `running` until sealed by finish(). */
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Schemas are built on first use: zod costs ~70 ms to load, which commands such as `specimen --help` and
 * `specimen run` must not pay before they do anything. `createRequire` keeps the load synchronous.
 */
function buildSchemas(z: ZodModule) {
  const isoDate = z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO-8601 date-time' });
  const plain: Z.ZodType<PlainValue> = z.lazy(() =>
    z.union([
      z.null(),
      z.boolean(),
      z.number(),
      z.bigint(),
      z.string(),
      z.array(plain),
      z.record(z.string(), plain),
    ]),
  );
  const plainMap = z.record(z.string(), plain);
  const artifact = z
    .object({
      path: z.string(),
      format: z.string(),
      bytes: z.number().int().nonnegative().optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      rows: z.number().int().nonnegative().optional(),
      columns: z.array(z.union([z.string(), plainMap])).optional(),
      shape: z.array(z.number().int().nonnegative()).optional(),
      dtype: z.string().optional(),
      chunks: z.array(z.number().int().positive()).optional(),
    })
    .loose();
  const specimen = z
    .object({
      specimen_id: z.string().min(1),
      created: isoDate,
      taxonomy: z.object({ domain: z.string(), method: z.string() }).loose(),
      model: z.string().nullable().optional(),
      status: z.enum(SPECIMEN_STATUSES),
      tags: z.array(z.string()),
      description: z.string().optional(),
      hypothesis: z.string().max(LAB_FIELD_MAX_CHARS).optional(),
      expected_results: z.string().max(LAB_FIELD_MAX_CHARS).optional(),
      conclusion: z.string().max(LAB_FIELD_MAX_CHARS).optional(),
      dependencies: plainMap.optional(),
      artifacts: z.record(z.string(), artifact).optional(),
    })
    .loose();
  const fileEntry = z.object({
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  });
  const run = z
    .object({
      run_id: z.string().min(1),
      run_timestamp: isoDate,
      started: isoDate,
      ended: isoDate.nullable(),
      status: z.enum(RUN_STATUSES),
      seeds: plainMap,
      config: plainMap,
      summary: plainMap,
      artifacts: z.record(z.string(), artifact),
      /** Every file of a sealed run: relative path → size and sha256. */
      files: z.record(z.string(), fileEntry).optional(),
      sealed_at: isoDate.optional(),
    })
    .loose();
  // Readers are lenient where older writers were: any status string, possibly missing timestamps.
  const specimenRead = specimen.extend({
    status: z.string(),
    // Another writer may have left a lab field empty (nil) or longer than this library writes.
    hypothesis: z.string().nullable().optional(),
    expected_results: z.string().nullable().optional(),
    conclusion: z.string().nullable().optional(),
  });
  const runRead = run.extend({ started: isoDate.nullable(), run_timestamp: isoDate.nullable() });
  return { artifact, specimen, run, specimenRead, runRead };
}

type ZodModule = typeof Z;
type Schemas = ReturnType<typeof buildSchemas>;
let cached: Schemas | undefined;
function schemas(): Schemas {
  cached ??= buildSchemas(createRequire(import.meta.url)('zod') as ZodModule);
  return cached;
}

/** Description of one artifact of a run or specimen: path, format, bytes, sha256, and format-specific fields. */
export type Artifact = Z.infer<Schemas['artifact']>;
/** A specimen manifest. Unknown fields are kept in the object as they were. */
export type SpecimenManifest = Z.infer<Schemas['specimen']> & PlainObject;
/** A run manifest as this library writes it. Unknown fields are kept. */
export type RunManifest = Z.infer<Schemas['run']> & PlainObject;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

function valueAt(obj: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function fail(kind: string, error: Z.ZodError, input: unknown, file?: string): never {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  const got = valueAt(input, issue.path);
  let allowed = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue)
    allowed = `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  else if (issue.code === 'invalid_type') allowed = `must be ${issue.expected}`;
  const where = file ? ` in ${file}` : '';
  throw new ManifestError(
    `manifest: ${kind} field "${field}" ${allowed}, got ${describe(got)}${where}`,
    field,
    file,
  );
}

/**
 * Validates a specimen manifest and, when `taxonomy` is given, its domain/method pair. Returns the same object
 * (unknown fields intact).
 */
export function validateSpecimenManifest(
  input: unknown,
  options: { file?: string; taxonomy?: Taxonomy } = {},
): SpecimenManifest {
  const r = schemas().specimen.safeParse(input);
  if (!r.success) fail('specimen', r.error, input, options.file);
  if (options.taxonomy) assertTaxonomy(options.taxonomy, r.data.taxonomy.domain, r.data.taxonomy.method);
  return input as SpecimenManifest;
}

/** Validates a run manifest as written by this library. Returns the same object. */
export function validateRunManifest(input: unknown, options: { file?: string } = {}): RunManifest {
  const r = schemas().run.safeParse(input);
  if (!r.success) fail('run', r.error, input, options.file);
  return input as RunManifest;
}

/**
 * A specimen manifest as read from disk, lenient about what older writers omitted: missing `tags` become [],
 * a missing `status` becomes "active", a missing `created` stays undefined. Fields of the wrong type are still
 * an error naming the field.
 */
export function normalizeSpecimenManifest(
  input: PlainObject,
  dirName: string,
  file?: string,
): SpecimenManifest {
  const m: PlainObject = { ...input };
  m.specimen_id ??= dirName;
  m.tags ??= [];
  m.status ??= 'active';
  m.created ??= '1970-01-01T00:00:00Z';
  m.taxonomy ??= { domain: 'unknown', method: 'unknown' };
  const r = schemas().specimenRead.safeParse(m);
  if (!r.success) fail('specimen', r.error, m, file);
  return m as SpecimenManifest;
}

/**
 * A run manifest as read from disk. The Python implementation wrote runs without `status`/`started`/`ended`
 * (it kept `timing.start`/`timing.end` and `run_timestamp`); those are mapped so every run looks alike.
 * The returned object keeps every original field.
 */
export function normalizeRunManifest(
  input: PlainObject,
  runId: string,
  file?: string,
): RunManifest & { legacy?: boolean } {
  const m: PlainObject = { ...input };
  const timing = (input.timing ?? {}) as Record<string, PlainValue>;
  const legacy = input.status === undefined;
  m.run_id ??= runId;
  m.started ??= toIso(timing.start) ?? toIso(input.run_timestamp) ?? null;
  m.ended ??= toIso(timing.end) ?? (legacy ? (toIso(input.run_timestamp) ?? null) : null);
  m.run_timestamp ??= m.ended ?? m.started;
  // A legacy run was only written once its script had finished; it has no seal, so it counts as succeeded.
  m.status ??= 'succeeded';
  m.seeds ??= {};
  m.config ??= (input.configuration as PlainValue) ?? {};
  m.summary ??= (input.summary_statistics as PlainValue) ?? {};
  m.artifacts ??= {};
  if (typeof m.seeds !== 'object' || m.seeds === null || Array.isArray(m.seeds)) m.seeds = { seed: m.seeds };
  if (typeof m.config !== 'object' || m.config === null || Array.isArray(m.config))
    m.config = { value: m.config };
  if (typeof m.summary !== 'object' || m.summary === null || Array.isArray(m.summary))
    m.summary = { value: m.summary };
  const r = schemas().runRead.safeParse(m);
  if (!r.success) fail('run', r.error, m, file);
  const out = m as RunManifest & { legacy?: boolean };
  if (legacy) Object.defineProperty(out, 'legacy', { value: true, enumerable: false });
  return out;
}

/** Python wrote naive local timestamps (`2025-12-22T20:17:18.128873`); they are kept as written if parseable. */
function toIso(v: PlainValue | undefined): string | undefined {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return undefined;
  return v;
}
