/**
 * The import sources: one row per tool, each naming what it reads and the module that reads it. A reader
 * module is imported only when its tool is asked for, so `specimen import mlflow …` never loads the
 * TensorBoard protobuf decoder and `specimen --help` loads none of them.
 *
 * @example
 * const listing = await loadSource('tensorboard', '/data/logs')
 * console.log(SOURCES.tensorboard.reads) // 'event files (events.out.tfevents.*) under a logdir'
 */
import type { SourceListing, SourceTool } from './types.js';

/** What each tool's reader accepts, and how to load it. */
export const SOURCES: Record<
  SourceTool,
  { reads: string; list: (source: string) => Promise<SourceListing> }
> = {
  mlflow: {
    reads: 'a tracking database (mlflow.db, or a directory holding it) or an mlruns/ file store',
    list: async (s) => (await import('./mlflow.js')).listMlflow(s),
  },
  tensorboard: {
    reads: 'event files (events.out.tfevents.*) under a logdir; each directory holding them is a run',
    list: async (s) => (await import('./tensorboard.js')).listTensorboard(s),
  },
  wandb: {
    reads:
      'offline runs (wandb/offline-run-*/run-*.wandb) or history exports (*.jsonl), or a directory holding them',
    list: async (s) => (await import('./wandb.js')).listWandb(s),
  },
  trackio: {
    reads: "a project's SQLite database (<project>.db in Trackio's directory) or that directory",
    list: async (s) => (await import('./trackio.js')).listTrackio(s),
  },
  neptune: {
    reads:
      "Parquet files written by Neptune's exporter (its data directory, a project directory or one file)",
    list: async (s) => (await import('./neptune.js')).listNeptune(s),
  },
};

/** The tools by name, in the order `--help` lists them. */
export const SOURCE_TOOLS = Object.keys(SOURCES) as SourceTool[];

/** Lists the runs at `source` with the reader for `tool`. */
export function loadSource(tool: SourceTool, source: string): Promise<SourceListing> {
  return SOURCES[tool].list(source);
}
