/**
 * `specimen push [ID…] [--cleanup [--older-than AGE]] [--json]`: uploads the sealed runs and specimen files
 * the remote lacks. With --cleanup it first removes what abandoned pushes left on the remote — incomplete
 * multipart uploads and objects of never-committed runs older than AGE (24h by default). Exit 0 when
 * everything is on the remote, 4 when a conflict kept something local (named on stderr).
 */
import { UsageError } from '../exit.js';
import { formatBytes } from '../output.js';
import { pushSummary, withRemote } from '../remote-report.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `24h`, `2d`, `0` → milliseconds (hours when no unit is given). */
function parseAge(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])?\s*$/.exec(text);
  if (!m)
    throw new UsageError(`push: --older-than takes an age like 30m, 24h or 2d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] ?? 'h']!;
}

export default async function push(
  ids: string[],
  opts: { json?: boolean; vault?: string; cleanup?: boolean; olderThan?: string },
): Promise<number> {
  if (opts.olderThan !== undefined && !opts.cleanup)
    throw new UsageError('push: --older-than goes with --cleanup');
  const olderThanMs = opts.olderThan === undefined ? undefined : parseAge(opts.olderThan);
  const { pushVault } = await import('../../remote/push.js');
  return withRemote(opts.vault, opts.json, async (vault, remote, store) => {
    const out = [];
    if (opts.cleanup) {
      const { cleanupRemote } = await import('../../remote/cleanup.js');
      const report = await cleanupRemote(store, {
        concurrency: remote.concurrency,
        ...(olderThanMs === undefined ? {} : { olderThanMs }),
      });
      out.push({
        report: { cleanup: report, conflicts: [] },
        summary:
          `cleanup of ${store.describe}: aborted ${report.abortedUploads} incomplete multipart upload(s); ` +
          `removed ${report.removedObjects} object(s) (${formatBytes(report.removedBytes)}) of ${report.runs.length} uncommitted run(s)` +
          (report.runs.length > 0 ? ` (${report.runs.join(', ')})` : '') +
          (report.recentRuns > 0 ? `; ${report.recentRuns} uncommitted run(s) with recent objects left` : ''),
      });
    }
    const report = await pushVault(vault, remote, store, { specimenIds: ids });
    out.push({ report, summary: pushSummary(report, store.describe) });
    return out;
  });
}
