/**
 * Every name the vault uses on disk, defined once, and the file stamp that caches and the catalog's state
 * use to notice that a file changed. docs/format.md describes what each holds.
 *
 * @example
 * path.join(vaultRoot, SPECIMENS_DIR, id, RUNS_DIR, runId, METRICS_FILE) // …/runs/<run>/metrics.parquet
 * if (fileStamp(file) !== state.stamp) { …re-read it }
 */
import fs from 'node:fs';

/** The vault's configuration file at its root. */
export const CONFIG_FILE = 'specimen-vault.json';
/** The folder holding one folder per specimen. */
export const SPECIMENS_DIR = 'specimens';
/** The catalog at the vault root, and the folder beside it with its generations, delta and state. */
export const CATALOG_FILE = 'vault.duckdb';
export const CATALOG_DIR = `${CATALOG_FILE}.d`;
/** Held by an indexer from its start to its switch (src/catalog/build/lock.ts). */
export const CATALOG_LOCK_FILE = `${CATALOG_FILE}.lock`;
/** The indexer's state in CATALOG_DIR, rewritten by every index that changes what queries see. */
export const CATALOG_STATE_FILE = 'state.json';

/**
 * At the vault root: the journal of batch-mode writers (docs/format.md, "Durability"), one
 * `<pid>-<random>.json` entry per writer with runs sealed but not yet fsynced.
 */
export const JOURNAL_DIR = '.specimen-journal';
/**
 * In a specimen directory: runs found damaged after an OS crash (run_id → {reason, found, what_to_do}),
 * kept outside the sealed runs, which are never modified.
 */
export const DAMAGED_FILE = 'damaged.json';

/** Saved views (report builder pages) at the vault root: `views/<name>.json`. */
export const VIEWS_DIR = 'views';
export const VIEW_SUFFIX = '.json';

/** A specimen's and a run's manifest. */
export const MANIFEST_FILE = 'manifest.msgpack';
/** The specimen's Markdown field notes. */
export const FIELD_NOTES_FILE = 'field_notes.md';
/** Held (created exclusively) while the field notes or the specimen manifest are read, changed and replaced. */
export const NOTEBOOK_LOCK_FILE = '.notebook.lock';
/** Which runs were superseded by which, kept outside the sealed runs. */
export const SUPERSESSIONS_FILE = 'supersessions.msgpack';
/** A specimen's runs, one folder each. */
export const RUNS_DIR = 'runs';
/** The Python implementation's single-run layout, read as a run with this ID. */
export const LEGACY_RUN_ID = 'strata';
/** Runs staged by clients that could not reach the CLI, sealed by `specimen adopt` or `index`. */
export const PENDING_DIR = 'pending';
/** In a staged run: the client's begin request, its finish record, and a tensor series' `.npy` folder suffix. */
export const BEGIN_FILE = 'begin.json';
export const FINISH_FILE = 'finish.json';
export const NPY_SERIES_SUFFIX = '.npy-series';

/**
 * Space set aside in a new run directory for sealing it: removed just before the final manifest is written,
 * so a run whose writes filled the disk can still be sealed as failed. `.tmp-` keeps it out of inventories.
 */
export const SPACE_RESERVE_FILE = '.tmp-space-reserve';
export const SPACE_RESERVE_BYTES = 128 * 1024;

/** A run's metrics, and the part files a streaming writer leaves until it closes. */
export const METRICS_FILE = 'metrics.parquet';
export const PARTS_DIR = 'metrics.parts';
/** Metrics written as JSON lines by protocols in any language, converted when the run ends. */
export const METRICS_JSONL_FILE = 'metrics.jsonl';
/**
 * System metrics of a run (CPU %, process-tree RSS, GPU utilisation and memory, one row per sample), and
 * the JSON lines a writer samples them into, converted when the run is sealed.
 */
export const SYSTEM_FILE = 'system.parquet';
export const SYSTEM_JSONL_FILE = 'system.jsonl';
/** A tensor is the Zarr array `<name>.zarr` in the run folder. */
export const TENSOR_SUFFIX = '.zarr';
/** Notes a run carries from where it came from (text summaries of an imported run). */
export const RUN_NOTES_FILE = 'notes.md';
/** A protocol's console output, kept with its run. */
export const STDOUT_FILE = 'stdout.log';
export const STDERR_FILE = 'stderr.log';

/** `inode:size:mtime` of a file: changes when the file is rewritten, replaced or touched. */
export function stampOf(st: fs.Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The stamp of the file at `file`, or undefined when there is none. */
export function fileStamp(file: string): string | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? stampOf(st) : undefined;
}

/**
 * In a run directory made by `specimen index --remote` for a run that only the remote holds: the marker
 * (JSON: remote URL, the manifest's ETag and sha256). Such a "remote stub" has the run's manifest and this
 * marker, plus whatever `specimen fetch` linked in from the object cache; `pull` replaces it by the run.
 */
export const REMOTE_STUB_FILE = '.remote-stub';
/** Under CATALOG_DIR: per remote, the ETag of each object `index --remote` read (`remote/<hash>.json`). */
export const REMOTE_INDEX_DIR = 'remote';
/** Under the user's cache directory (~/.cache/specimen-vault): remote objects by sha256. */
export const OBJECT_CACHE_DIR = 'objects';

/**
 * The code a run was made with, kept in the run (sealed with it): copies of the protocol file(s) or the
 * writer's script under their own names, and in a dirty git tree the diff against HEAD and the names of
 * untracked files. Each file is kept only up to CODE_FILE_MAX_BYTES and only when it is text.
 */
export const CODE_DIR = 'code';
export const CODE_GIT_DIFF_FILE = 'git.diff';
export const CODE_UNTRACKED_FILE = 'untracked.txt';
export const CODE_FILE_MAX_BYTES = 1024 * 1024;
