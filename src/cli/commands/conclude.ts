/**
 * `specimen conclude <ID> [TEXT] [--file F]`: records the conclusion and marks the specimen `concluded`
 * (one atomic manifest write). The text comes from the argument, a file or standard input.
 */
import { updateNotebook } from '../../storage/notebook.js';
import { Vault } from '../../storage/vault.js';
import { refreshCatalog } from '../catalog-access.js';
import { painter } from '../output.js';
import { readTextInput } from '../text-input.js';

export default async function conclude(
  id: string,
  text: string | undefined,
  opts: { file?: string; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  await vault.assertSpecimenExists(id);
  const conclusion = (await readTextInput('conclude', text, opts.file)).trim();
  await updateNotebook(vault, id, { conclusion, status: 'concluded' });
  console.log(`${painter()('green', 'concluded')} ${id}`);
  await refreshCatalog(vault.root);
  return 0;
}
