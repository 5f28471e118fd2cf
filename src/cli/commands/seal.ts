/**
 * `specimen seal <ID> <RUN> [--status S] [--json]`: seals a run begun with `specimen begin`: converts its
 * `metrics.jsonl` and `.npy` files, takes status, summary and error from its `finish.json`, records every
 * file's size and sha256 and makes the run read-only.
 *
 * @example
 * specimen seal 2026_01_02_probe 20260102_101500 --json
 * # {"specimen_id":"2026_01_02_probe","run_id":"20260102_101500","status":"succeeded","rows":1000,…}
 */
import { sealExternalRun } from '../../runner/external-run.js';
import { parseDurabilityFlag } from '../../storage/durability.js';
import { Vault } from '../../storage/vault.js';
import { UsageError } from '../exit.js';
import { painter } from '../output.js';

const STATUSES = ['succeeded', 'failed', 'interrupted'] as const;

export default async function seal(
  id: string,
  run: string,
  opts: { status?: string; json?: boolean; vault?: string; durability?: string },
): Promise<number> {
  const status = opts.status as (typeof STATUSES)[number] | undefined;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(
      `--status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(opts.status)}`,
    );
  const vault = await Vault.open(opts.vault);
  const paint = painter(process.stderr);
  const result = await sealExternalRun(vault, id, run, {
    ...(status ? { status } : {}),
    ...(opts.durability !== undefined ? { durability: parseDurabilityFlag(opts.durability) } : {}),
    onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
  });
  if (opts.json) console.log(JSON.stringify(result));
  else
    console.log(
      `run ${run} of ${id} sealed: ${result.status} (${result.rows} metric rows, ${result.tensors.length} tensors)`,
    );
  return 0;
}
