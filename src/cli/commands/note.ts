/**
 * `specimen note <ID> [TEXT] [--file F]`: appends a dated entry (`## YYYY-MM-DD HH:MM UTC`) to the
 * specimen's field notes, atomically; the text comes from the argument, a file or standard input.
 */
import { appendFieldNote } from '../../storage/notebook.js';
import { Vault } from '../../storage/vault.js';
import { painter } from '../output.js';
import { readTextInput } from '../text-input.js';

export default async function note(
  id: string,
  text: string | undefined,
  opts: { file?: string; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  await vault.assertSpecimenExists(id);
  const entry = await readTextInput('note', text, opts.file);
  const heading = await appendFieldNote(vault, id, entry);
  console.log(`${painter()('green', 'noted')} ${id}: ${heading.replace(/^## /, '')}`);
  return 0;
}
