/** `specimen migrate [--dry-run]`: moves legacy `strata/` runs to `runs/<run_id>/`, verified byte for byte. */
import { migrateVault } from '../../storage/migrate.js';
import { Vault } from '../../storage/vault.js';
import { formatBytes } from '../output.js';

export default async function migrate(opts: { dryRun?: boolean; vault?: string }): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const steps = await migrateVault(vault, { dryRun: opts.dryRun ?? false });
  if (steps.length === 0) {
    console.log('nothing to migrate: no specimen has a legacy strata/ directory');
    return 0;
  }
  for (const s of steps) {
    console.log(
      `${opts.dryRun ? 'would move' : 'moved'} ${s.from} → ${s.to} (${s.files} file(s), ${formatBytes(s.bytes)}${s.done ? ', hashes identical before and after; run sealed' : ''})`,
    );
  }
  return 0;
}
