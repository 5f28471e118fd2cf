/**
 * `specimen set <ID> KEY=VALUE...`: edits a specimen's notebook fields — hypothesis, expected_results
 * (or `expected`), conclusion, description, status, tags (comma-separated). `KEY=` clears a text field.
 * All assignments are checked before the manifest is rewritten (atomically) once.
 */
import { UsageError } from '../../errors.js';
import { NOTEBOOK_KEYS, type NotebookPatch, updateNotebook } from '../../storage/notebook.js';
import { Vault } from '../../storage/vault.js';
import { refreshCatalog } from '../catalog-access.js';
import { painter } from '../output.js';

const ALIASES: Readonly<Record<string, string>> = { expected: 'expected_results' };

/** Turns `key=value` arguments into a patch (values are text, tags a comma-separated list). */
export function parseAssignments(assignments: readonly string[]): Record<string, unknown> {
  if (assignments.length === 0)
    throw new UsageError(`set: give at least one KEY=VALUE (keys: ${NOTEBOOK_KEYS.join(', ')})`);
  const out: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`set: ${JSON.stringify(a)} is not KEY=VALUE`);
    const raw = a.slice(0, eq).trim();
    const key = ALIASES[raw] ?? raw;
    if (key in out) throw new UsageError(`set: ${key} is given twice`);
    const value = a.slice(eq + 1);
    out[key] =
      key === 'tags'
        ? value
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : key === 'status' || value !== ''
          ? value
          : null;
  }
  return out;
}

export default async function set(
  id: string,
  assignments: string[],
  opts: { vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const patch = parseAssignments(assignments) as NotebookPatch;
  const m = await updateNotebook(vault, id, patch);
  console.log(
    `${painter()('green', 'updated')} ${id}: ${Object.keys(patch).join(', ')} (status ${String(m.status)})`,
  );
  await refreshCatalog(vault.root);
  return 0;
}
