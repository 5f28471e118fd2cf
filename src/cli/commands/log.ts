/**
 * `specimen log <ID…> --format md [--metric M…] [--out FILE]`: the experiment log of the specimens as
 * Markdown (src/report/markdown-log.ts), on stdout or written atomically to FILE.
 *
 * @example
 * specimen log 2025_01_02_grok --format md --metric test_loss > LOG.md
 */
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../format/atomic-write.js';
import { experimentLog } from '../../report/markdown-log.js';
import { Vault } from '../../storage/vault.js';

export default async function log(
  ids: string[],
  opts: { format?: string; metric?: string[]; out?: string; vault?: string },
): Promise<number> {
  const format = opts.format ?? 'md';
  if (format !== 'md') throw new UsageError(`log: --format must be "md", got ${JSON.stringify(format)}`);
  if (ids.length === 0) throw new UsageError('log: name at least one specimen ID');
  const vault = await Vault.open(opts.vault);
  const text = await experimentLog(vault, ids, opts.metric ? { metrics: opts.metric } : {});
  if (opts.out !== undefined) await writeFileAtomic(opts.out, text);
  else process.stdout.write(text);
  return 0;
}
