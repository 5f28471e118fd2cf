/**
 * Saved views: `views/<name>.json` at the vault root, a page arranged for one research question — charts
 * (metrics of runs against an x axis, optionally grouped by config keys), tables (a SQL query or the runs
 * table), tensor views (a 2-D slice of a run's tensor) and text blocks, in order. The web UI writes them,
 * `specimen report --view NAME` exports one. Validated with zod like the manifests; errors name the field
 * (`view: field "items.0.metrics" must be array, got "loss"`). docs/format.md describes the schema.
 *
 * @example
 * const view = validateView(JSON.parse(text), 'turns')
 * view.items[0]   // { kind: 'chart', metrics: ['test_loss'], runs: ['2025_01_02_grok'], x: 'step', group_by: [] }
 */
import { createRequire } from 'node:module';
import type * as Z from 'zod';
import { InvalidNameError, ManifestError } from '../errors.js';

/** Version of the view format written by this library. */
export const VIEW_FORMAT_VERSION = 1;
/** A view name: the file name without `.json`. */
export const VIEW_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Throws InvalidNameError unless `name` is a view name (lower-case letters, digits, `-`, `_`; ≤ 64). */
export function assertViewName(name: string): void {
  if (!VIEW_NAME_PATTERN.test(name))
    throw new InvalidNameError(
      'view',
      name,
      'must be 1–64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
    );
}

function buildSchemas(z: typeof Z) {
  // A run set: specimen IDs (every run) or `<specimen_id>/<run_id>` references.
  const refs = z.array(z.string().min(1).max(200)).max(200);
  const chart = z.object({
    kind: z.literal('chart'),
    title: z.string().max(200).optional(),
    metrics: z.array(z.string().min(1).max(200)).min(1).max(12),
    runs: refs.optional(),
    x: z.string().min(1).max(200).default('step'),
    group_by: z.array(z.string().min(1).max(200)).max(8).default([]),
    log: z.boolean().default(false),
  });
  const table = z.union([
    z.object({
      kind: z.literal('table'),
      title: z.string().max(200).optional(),
      sql: z.string().min(1).max(20_000),
    }),
    z.object({ kind: z.literal('table'), title: z.string().max(200).optional(), runs: refs }),
  ]);
  const tensor = z.object({
    kind: z.literal('tensor'),
    title: z.string().max(200).optional(),
    run: z.string().min(1).max(200),
    tensor: z.string().min(1).max(200),
    /** Index of each leading dimension (all but the last two); missing ones are 0. */
    index: z.array(z.number().int().nonnegative()).max(16).default([]),
  });
  const text = z.object({
    kind: z.literal('text'),
    title: z.string().max(200).optional(),
    markdown: z.string().max(100_000),
  });
  const view = z
    .object({
      version: z.literal(VIEW_FORMAT_VERSION),
      title: z.string().min(1).max(200),
      description: z.string().max(10_000).optional(),
      /** The runs every item uses unless it names its own. */
      runs: refs.default([]),
      items: z.array(z.union([chart, table, tensor, text])).max(100),
    })
    .strict();
  return { view };
}

type Schemas = ReturnType<typeof buildSchemas>;
let cached: Schemas | undefined;
function schemas(): Schemas {
  // Built on first use, as the manifest schemas are: zod is slow to load for commands that never need it.
  cached ??= buildSchemas(createRequire(import.meta.url)('zod') as typeof Z);
  return cached;
}

/** A saved view after validation (defaults filled in). */
export type SavedView = Z.output<Schemas['view']>;
/** One item of a view. */
export type ViewItem = SavedView['items'][number];

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Validates a parsed view file; throws ManifestError naming the field, the rule and the value. */
export function validateView(input: unknown, name?: string): SavedView {
  const r = schemas().view.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  let got: unknown = input;
  for (const k of issue.path)
    got = got !== null && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[k] : undefined;
  const rule = issue.code === 'invalid_type' ? `must be ${issue.expected}` : issue.message;
  const where = name ? ` in view "${name}"` : '';
  throw new ManifestError(`view: field "${field}" ${rule}, got ${describe(got)}${where}`, field);
}
