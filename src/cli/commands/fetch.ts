/**
 * `specimen fetch [ID…] [--tensors]`: brings the metrics and system metrics (and with --tensors the tensors)
 * of remote stubs —
 * runs `index --remote` cataloged without their files — through the local object cache into the stubs,
 * then updates the catalog, so the `exp_` and `metrics` views include them. Files already cached are not
 * downloaded again. Exit 1 when an object's bytes do not match its run manifest (named on stderr).
 *
 * @example
 * specimen index --remote && specimen fetch 2025_01_02_grokking_sweep
 */
import fs from 'node:fs';
import path from 'node:path';
import { indexVault } from '../../catalog/index.js';
import { isVaultError } from '../../errors.js';
import { METRICS_FILE, SYSTEM_FILE, TENSOR_SUFFIX } from '../../format/layout.js';
import { decodeManifest } from '../../format/msgpack.js';
import { formatBytes, painter } from '../output.js';
import { withRemote } from '../remote-report.js';

export default async function fetch(
  ids: string[],
  opts: { tensors?: boolean; json?: boolean; vault?: string },
): Promise<number> {
  const { openRemoteFiles, stubRunDirs } = await import('../../remote/on-demand.js');
  const paint = painter(process.stderr);
  return withRemote(opts.vault, opts.json, async (vault, remote, store) => {
    const files = openRemoteFiles(vault.root, { remote, store });
    const specimenIds = ids.length > 0 ? ids : await vault.specimenIds();
    const report = {
      runs: 0,
      files: 0,
      downloaded: 0,
      bytes: 0,
      corrupt: [] as { specimenId: string; runId: string; objects: string[] }[],
      conflicts: [],
    };
    for (const specimenId of specimenIds) {
      const dir = await vault.assertSpecimenExists(specimenId);
      for (const runDir of stubRunDirs(dir)) {
        const manifest = decodeManifest(fs.readFileSync(path.join(runDir, 'manifest.msgpack')), runDir);
        const rels = Object.keys((manifest.files ?? {}) as Record<string, unknown>).filter(
          (rel) =>
            rel === METRICS_FILE ||
            rel === SYSTEM_FILE ||
            (opts.tensors === true && rel.split('/')[0]!.endsWith(TENSOR_SUFFIX)),
        );
        try {
          const got = await files.fetchIntoStub(runDir, rels);
          if (got.files > 0) report.runs++;
          report.files += got.files;
          report.downloaded += got.downloaded;
          report.bytes += got.bytes;
        } catch (err) {
          if (!isVaultError(err, 'RemoteIntegrityError')) throw err;
          report.corrupt.push({ specimenId, runId: path.basename(runDir), objects: [...err.objects] });
        }
      }
    }
    const evicted = await files.evict();
    const indexed = await indexVault(vault.root, {
      onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
    });
    const cache = await files.cache;
    return [
      {
        report: { ...report, cache: { dir: cache.dir, limitBytes: cache.limitBytes, ...evicted } },
        summary:
          `fetched ${report.files} file(s) of ${report.runs} remote run(s) (${formatBytes(report.bytes)}, ${formatBytes(report.downloaded)} downloaded from ${store.describe}); ` +
          `cache ${cache.dir}: ${formatBytes(evicted.keptBytes)} of ${formatBytes(cache.limitBytes)}` +
          (evicted.removed > 0 ? `, ${evicted.removed} evicted` : '') +
          `; catalog updated (${indexed.runs.total} run(s))`,
      },
    ];
  });
}
