/**
 * `specimen index [--full] [--remote]`: updates `vault.duckdb` (only what changed since the last index, or
 * everything with --full). With --remote it first reads what moved on the vault's remote (listing and run
 * manifests, by ETag; see remote/index-remote.ts), so the catalog also holds the remote's runs. Problems
 * with single specimens are warnings on stderr; exit 1 only when nothing could be indexed. A progress bar
 * is shown on a terminal.
 */
import { SingleBar } from 'cli-progress';
import { indexVault } from '../../catalog/index.js';
import { findVaultRoot } from '../../format/vault-config.js';
import { Vault } from '../../storage/vault.js';
import { painter } from '../output.js';
import { adoptPendingRuns } from './adopt.js';

export default async function index(opts: {
  full?: boolean;
  quiet?: boolean;
  remote?: boolean;
  vault?: string;
}): Promise<number> {
  const root = findVaultRoot(opts.vault === undefined ? {} : { explicit: opts.vault });
  const paint = painter(process.stderr);
  if (opts.remote) {
    const { connectRemote } = await import('../../remote/connect.js');
    const { indexRemote } = await import('../../remote/index-remote.js');
    const vault = await Vault.open(root);
    const { remote, store } = await connectRemote(vault);
    try {
      const r = await indexRemote(vault, remote, store, {
        onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
      });
      if (!opts.quiet)
        console.log(
          `remote ${store.describe}: ${r.specimens} specimen(s), ${r.runs.added} run(s) new or changed, ${r.runs.unchanged} unchanged, ` +
            `${r.runs.removed} removed, ${r.runs.local} also local; ${r.specimenFiles} specimen file(s) updated (${r.reads} objects read)`,
        );
    } finally {
      store.close();
    }
  }
  const tty = Boolean(process.stderr.isTTY) && !opts.quiet;
  const bar = tty
    ? new SingleBar({
        format: 'indexing [{bar}] {value}/{total} specimens',
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
      })
    : undefined;
  await adoptPendingRuns(root, (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`));
  let started = false;
  const report = await indexVault(root, {
    full: opts.full ?? false,
    onProgress: (done, total) => {
      if (!bar || total < 50) return;
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    onWarning: (message) => {
      if (started) bar?.stop();
      process.stderr.write(`${paint('yellow', 'warning:')} ${message}\n`);
      started = false;
    },
  });
  if (started) bar?.stop();
  const s = report.specimens;
  const r = report.runs;
  if (!opts.quiet)
    console.log(
      `indexed ${s.indexed} specimen(s) (${s.unchanged} unchanged, ${s.skipped} skipped, ${s.removed} removed) and ${r.indexed} run(s) ` +
        `(${r.unchanged} unchanged, ${r.removed} removed; ${r.total} in the catalog) in ${Math.round(report.durationMs)} ms → ${report.catalogPath}`,
    );
  if (report.nothingIndexable) {
    process.stderr.write(`${paint('red', 'error:')} nothing could be indexed in ${root}\n`);
    return 1;
  }
  return 0;
}
