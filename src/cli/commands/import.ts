/**
 * `specimen import <source> <PATH> [--specimen ID | --map RULES] [--dry-run]`: brings runs recorded by
 * MLflow, TensorBoard, W&B, Trackio or Neptune into the vault as sealed runs. Prints one line per run, every
 * problem (path and reason) on stderr, and a summary; a progress bar on a terminal.
 *
 * Exit status: 0 everything readable was imported (or was already), 1 partial (some items could not be
 * read, the rest was imported), 2 bad input (nothing could be imported: the source is unreadable), 3 PATH
 * does not exist.
 *
 * @example
 * specimen import mlflow ./mlflow.db --dry-run
 * specimen import tensorboard ./logs --specimen 2025_01_02_resnet_baseline
 */
import { SingleBar } from 'cli-progress';
import { importRuns } from '../../import/importer.js';
import { parseMapRules } from '../../import/mapping.js';
import { SOURCE_TOOLS } from '../../import/sources.js';
import type { SourceTool } from '../../import/types.js';
import { Vault } from '../../storage/vault.js';
import { EXIT, UsageError } from '../exit.js';
import { painter } from '../output.js';

export default async function importCommand(
  tool: string,
  source: string,
  opts: {
    specimen?: string;
    map?: string[];
    dryRun?: boolean;
    domain?: string;
    method?: string;
    json?: boolean;
    vault?: string;
  },
): Promise<number> {
  if (!SOURCE_TOOLS.includes(tool as SourceTool))
    throw new UsageError(`import: unknown source ${JSON.stringify(tool)}; one of ${SOURCE_TOOLS.join(', ')}`);
  if (opts.specimen && opts.map?.length) throw new UsageError('import: give --specimen or --map, not both');
  const vault = await Vault.open(opts.vault);
  const paint = painter(process.stderr);
  const tty = Boolean(process.stderr.isTTY) && !opts.json;
  const bar = tty
    ? new SingleBar({
        format: `importing ${tool} [{bar}] {value}/{total} runs {label}`,
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
      })
    : undefined;
  let barStarted = false;
  const summary = await (async () => {
    try {
      return await importRuns(vault, tool as SourceTool, source, {
        specimen: opts.specimen,
        map: opts.map?.length ? parseMapRules(opts.map) : undefined,
        dryRun: opts.dryRun,
        domain: opts.domain,
        method: opts.method,
        onStart: (total) => {
          if (bar && total > 1) {
            bar.start(total, 0, { label: '' });
            barStarted = true;
          }
        },
        onProgress: (done, _total, label) => bar?.update(done, { label }),
      });
    } finally {
      if (barStarted) bar?.stop();
    }
  })();

  const imported = summary.runs.filter((r) => r.action === 'created' || r.action === 'would create');
  const skipped = summary.runs.filter((r) => r.action === 'skipped');
  const failed = summary.runs.filter((r) => r.action === 'failed');
  const code =
    summary.problems.length === 0
      ? EXIT.ok
      : imported.length + skipped.length > 0
        ? EXIT.failed
        : EXIT.badInput;
  if (opts.json) {
    console.log(JSON.stringify({ ...summary, exit_code: code }, null, 2));
    return code;
  }
  for (const r of summary.runs) {
    if (r.action === 'created')
      console.log(
        `imported ${r.sourceRunId} → ${r.specimenId}/${r.runId} (${r.rows} rows, ${r.artifacts} artifacts)`,
      );
    else if (r.action === 'would create')
      console.log(
        `would import ${r.sourceRunId} → ${r.specimenId} (${r.rows} rows, ${r.artifacts} artifacts)`,
      );
    else if (r.action === 'skipped') console.log(`skipped ${r.sourceRunId}: ${r.reason}`);
  }
  for (const p of summary.problems)
    process.stderr.write(`${paint('yellow', 'warning:')} ${p.path}: ${p.reason}\n`);
  const newSpecimens = summary.specimens.filter((s) => s.created).length;
  const verb = summary.dryRun ? 'would be imported' : 'imported';
  console.log(
    `${summary.dryRun ? 'dry run, nothing written: ' : ''}${tool}${summary.toolVersion ? ` (${summary.toolVersion})` : ''} ${summary.source}: ` +
      `${summary.specimens.length} specimen(s) (${newSpecimens} new), ${imported.length} run(s) ${verb}, ` +
      `${skipped.length} skipped as already imported, ${failed.length} failed; ` +
      `${summary.rows} metric row(s), ${summary.artifacts} artifact(s); ${summary.problems.length} problem(s)`,
  );
  return code;
}
