/**
 * Locating a vault and reading its config. The vault root is the nearest ancestor directory (starting at
 * the working directory) that holds `specimens/` or the config file `specimen-vault.json`; `--vault DIR` and
 * the `SPECIMEN_VAULT` environment variable override the search.
 *
 * @example
 * const root = findVaultRoot({ explicit: opts.vault })   // throws VaultNotFoundError with what to do
 * const config = await readVaultConfig(root)              // defaults when the file is absent
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, VaultNotFoundError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { CONFIG_FILE, SPECIMENS_DIR } from './layout.js';
import { DEFAULT_TAXONOMY, mergeTaxonomy, type Taxonomy } from './taxonomy.js';

/** Version of the on-disk format this library writes. */
export const FORMAT_VERSION = 1;

/** Zarr format of Python runs' tensors when the config does not say: v2, which zarr-python 2.x and 3.x read. */
export const DEFAULT_PYTHON_ZARR_FORMAT: 2 | 3 = 2;

const SNAKE = /^[a-z][a-z0-9_]*$/;

/**
 * When a sealed run is durable (docs/format.md, "Durability"): `run` — when its seal returns; `batch` —
 * group commit, within a second, many runs sharing one flush (a process crash still loses nothing).
 */
export type Durability = 'run' | 'batch';
export const DURABILITIES: readonly Durability[] = ['run', 'batch'];
/** The mode of a vault whose config does not say, and of writers given none. */
export const DEFAULT_DURABILITY: Durability = 'batch';

/**
 * Checks the config's known fields (the file is small and read by every command, so this is plain code
 * rather than a schema library that would add to start-up). Returns the first problem as
 * [field, message], or undefined.
 */
function configProblem(json: unknown): [string, string] | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return ['(root)', 'must be a JSON object'];
  const c = json as Record<string, unknown>;
  if (
    c.format_version !== undefined &&
    !(Number.isInteger(c.format_version) && (c.format_version as number) > 0)
  )
    return ['format_version', `must be a positive integer, got ${JSON.stringify(c.format_version)}`];
  if (c.name !== undefined && typeof c.name !== 'string')
    return ['name', `must be a string, got ${JSON.stringify(c.name)}`];
  if (c.python !== undefined) {
    const py = c.python as Record<string, unknown> | null;
    if (py === null || typeof py !== 'object' || Array.isArray(py))
      return ['python', 'must be an object such as {"zarr_format": 2}'];
    if (py.zarr_format !== undefined && py.zarr_format !== 2 && py.zarr_format !== 3)
      return ['python.zarr_format', `must be 2 or 3, got ${JSON.stringify(py.zarr_format)}`];
  }
  if (c.system !== undefined) {
    const sys = c.system as Record<string, unknown> | null;
    if (sys === null || typeof sys !== 'object' || Array.isArray(sys))
      return ['system', 'must be an object such as {"interval_s": 5}'];
    const i = sys.interval_s;
    if (i !== undefined && i !== null && !(typeof i === 'number' && Number.isFinite(i) && i > 0))
      return [
        'system.interval_s',
        `must be a positive number of seconds or null (off), got ${JSON.stringify(i)}`,
      ];
  }
  if (c.durability !== undefined && !DURABILITIES.includes(c.durability as Durability))
    return [
      'durability',
      `must be "run" (each seal durable when it returns) or "batch" (group commit within a second), got ${JSON.stringify(c.durability)}`,
    ];
  const turnsProblem = turnsConfigProblem(c.turns);
  if (turnsProblem) return turnsProblem;
  if (c.taxonomy === undefined) return undefined;
  const t = c.taxonomy as Record<string, unknown>;
  if (t === null || typeof t !== 'object' || Array.isArray(t))
    return ['taxonomy', 'must be an object with "domains"'];
  const domains = t.domains as Record<string, unknown> | undefined;
  if (domains === undefined) return undefined;
  if (domains === null || typeof domains !== 'object' || Array.isArray(domains))
    return ['taxonomy.domains', 'must map domain names to lists of methods'];
  for (const [d, methods] of Object.entries(domains)) {
    if (!SNAKE.test(d)) return [`taxonomy.domains.${d}`, 'is not a lowercase snake_case domain name'];
    if (!Array.isArray(methods))
      return [`taxonomy.domains.${d}`, `must be a list of methods, got ${JSON.stringify(methods)}`];
    for (const m of methods)
      if (typeof m !== 'string' || !SNAKE.test(m))
        return [`taxonomy.domains.${d}`, `method ${JSON.stringify(m)} is not a lowercase snake_case name`];
  }
  return undefined;
}

/** `turns`: `{ "metrics": ["test_loss", …] }`, the metrics whose turn the indexer records. */
function turnsConfigProblem(turns: unknown): [string, string] | undefined {
  if (turns === undefined) return undefined;
  if (turns === null || typeof turns !== 'object' || Array.isArray(turns))
    return ['turns', 'must be an object with "metrics"'];
  const metrics = (turns as Record<string, unknown>).metrics;
  if (metrics === undefined) return undefined;
  if (!Array.isArray(metrics) || metrics.some((m) => typeof m !== 'string' || m.length === 0))
    return ['turns.metrics', `must be a list of metric names, got ${JSON.stringify(metrics)}`];
  return undefined;
}

/** The parsed vault config. `taxonomy` is the built-in table merged with the file's extension. */
export interface VaultConfig {
  /** Format version the vault was created with. */
  formatVersion: number;
  /** Optional display name. */
  name?: string;
  /** Effective taxonomy (defaults plus extensions). */
  taxonomy: Taxonomy;
  /**
   * Zarr format of tensors in runs written from Python (`python.zarr_format`; default 2, which every
   * zarr-python reads — 2.x cannot read v3).
   */
  pythonZarrFormat: 2 | 3;
  /** Seconds between system-metric samples of `specimen run` (`system.interval_s`), null when off; unset: 5. */
  systemIntervalS?: number | null;
  /** When sealed runs are durable (`durability`; default `batch`). */
  durability: Durability;
  /** Metrics whose turn (src/analysis/turns.ts) the indexer records in the `turns` table; default none. */
  turnMetrics: string[];
  /** The raw file contents (unknown fields kept). */
  raw: Record<string, unknown>;
}

/** Returns the vault root for `explicit` (flag), else SPECIMEN_VAULT, else the nearest qualifying ancestor of `cwd`. */
export function findVaultRoot(
  options: { explicit?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  const env = options.env ?? process.env;
  const given = options.explicit ?? (env.SPECIMEN_VAULT || undefined);
  if (given) {
    const abs = path.resolve(options.cwd ?? process.cwd(), given);
    if (!isVaultDir(abs)) throw new VaultNotFoundError(abs);
    return abs;
  }
  let dir = path.resolve(options.cwd ?? process.cwd());
  for (;;) {
    if (isVaultDir(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new VaultNotFoundError(path.resolve(options.cwd ?? process.cwd()));
    dir = parent;
  }
}

/** True when `dir` holds `specimens/` or the config file. */
export function isVaultDir(dir: string): boolean {
  const isKind = (p: string, dirWanted: boolean): boolean => {
    try {
      const st = fs.statSync(p);
      return dirWanted ? st.isDirectory() : st.isFile();
    } catch {
      return false;
    }
  };
  return isKind(path.join(dir, SPECIMENS_DIR), true) || isKind(path.join(dir, CONFIG_FILE), false);
}

/** Reads the config at `root`; a missing file yields the defaults, a malformed one a ConfigError naming the field. */
export async function readVaultConfig(root: string): Promise<VaultConfig> {
  const file = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return {
        formatVersion: FORMAT_VERSION,
        taxonomy: DEFAULT_TAXONOMY,
        pythonZarrFormat: DEFAULT_PYTHON_ZARR_FORMAT,
        durability: DEFAULT_DURABILITY,
        turnMetrics: [],
        raw: {},
      };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config: ${file} is not valid JSON: ${(err as Error).message}`, file);
  }
  const problem = configProblem(json);
  if (problem) throw new ConfigError(`config: ${file}: field "${problem[0]}" ${problem[1]}`, file);
  const data = json as {
    format_version?: number;
    name?: string;
    taxonomy?: { domains?: Record<string, string[]> };
    python?: { zarr_format?: 2 | 3 };
    system?: { interval_s?: number | null };
    turns?: { metrics?: string[] };
    durability?: Durability;
  };
  const result: VaultConfig = {
    formatVersion: data.format_version ?? FORMAT_VERSION,
    taxonomy: mergeTaxonomy(DEFAULT_TAXONOMY, data.taxonomy?.domains),
    pythonZarrFormat: data.python?.zarr_format ?? DEFAULT_PYTHON_ZARR_FORMAT,
    durability: data.durability ?? DEFAULT_DURABILITY,
    turnMetrics: [...new Set(data.turns?.metrics ?? [])],
    raw: json as Record<string, unknown>,
  };
  if (data.name !== undefined) result.name = data.name;
  if (data.system?.interval_s !== undefined) result.systemIntervalS = data.system.interval_s;
  return result;
}

/** Creates a vault at `root` (config file and `specimens/`); leaves an existing vault's files untouched. */
export async function initVault(
  root: string,
  options: { name?: string } = {},
): Promise<{ root: string; created: boolean }> {
  const abs = path.resolve(root);
  await fsp.mkdir(path.join(abs, SPECIMENS_DIR), { recursive: true });
  const file = path.join(abs, CONFIG_FILE);
  if (fs.existsSync(file)) return { root: abs, created: false };
  const config = {
    format_version: FORMAT_VERSION,
    name: options.name ?? path.basename(abs),
    taxonomy: { domains: {} },
  };
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
  return { root: abs, created: true };
}
