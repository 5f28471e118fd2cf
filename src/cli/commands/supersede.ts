/** `specimen supersede <ID> <RUN> --by <RUN> [--reason TEXT]`: records that a run is superseded. */
import { supersedeRun } from '../../storage/supersede.js';
import { Vault } from '../../storage/vault.js';

export default async function supersede(
  id: string,
  run: string,
  opts: { by: string; reason?: string; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const rec = await supersedeRun(vault, id, run, {
    by: opts.by,
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  console.log(`run ${run} of ${id} superseded by ${rec.by}${rec.reason ? ` (${rec.reason})` : ''}`);
  if (rec.replaced)
    console.log(
      `  replaces the earlier record: superseded by ${rec.replaced.by}` +
        `${rec.replaced.reason ? ` (${rec.replaced.reason})` : ' (no reason given)'} on ${rec.replaced.at}`,
    );
  return 0;
}
