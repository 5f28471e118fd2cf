/**
 * Saved views on disk: `views/<name>.json` at the vault root (src/format/view.ts has the schema). Names are
 * validated before any path is built, files are written atomically (temp + rename) and read back through the
 * schema, so a hand-edited file with a mistake is reported with the field it breaks.
 *
 * @example
 * await saveView(vault.root, 'turns', { version: 1, title: 'Turns', items: [] })
 * (await listViews(vault.root)).map((v) => v.name)   // ['turns']
 * const view = await readView(vault.root, 'turns')
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ManifestError, NotFoundError, PathEscapeError } from '../errors.js';
import { writeFileAtomic } from '../format/atomic-write.js';
import { closest } from '../format/ids.js';
import { VIEW_SUFFIX, VIEWS_DIR } from '../format/layout.js';
import { within } from '../format/paths.js';
import { assertViewName, type SavedView, VIEW_NAME_PATTERN, validateView } from '../format/view.js';

/** A view as listed: its name and title (or the error that keeps it from being read). */
export interface ViewListing {
  name: string;
  title: string | null;
  items: number;
  error?: string;
}

function viewFile(root: string, name: string): string {
  assertViewName(name);
  return within(root, VIEWS_DIR, `${name}${VIEW_SUFFIX}`);
}

/**
 * Throws PathEscapeError when `file` (or, when it does not exist, the views folder) resolves through a
 * symbolic link to somewhere outside the vault: a view is read and written only inside it.
 */
function confine(root: string, file: string): void {
  const realRoot = fs.realpathSync(root);
  for (const p of [file, within(root, VIEWS_DIR)]) {
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      continue;
    }
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`))
      throw new PathEscapeError(p, realRoot);
    return;
  }
}

/** Every view of the vault, by name. */
export async function listViews(root: string): Promise<ViewListing[]> {
  let names: string[];
  try {
    names = await fsp.readdir(within(root, VIEWS_DIR));
  } catch {
    return [];
  }
  const out: ViewListing[] = [];
  for (const file of names.sort()) {
    if (!file.endsWith(VIEW_SUFFIX)) continue;
    const name = file.slice(0, -VIEW_SUFFIX.length);
    if (!VIEW_NAME_PATTERN.test(name)) continue;
    try {
      const v = await readView(root, name);
      out.push({ name, title: v.title, items: v.items.length });
    } catch (err) {
      out.push({ name, title: null, items: 0, error: (err as Error).message });
    }
  }
  return out;
}

/** The view `name`; NotFoundError naming the views there are, ManifestError for a broken file. */
export async function readView(root: string, name: string): Promise<SavedView> {
  const file = viewFile(root, name);
  confine(root, file);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    const known = (await listNames(root)).filter((n) => n !== name);
    throw new NotFoundError('view', name, closest(name, known));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`view: ${file} is not JSON: ${(err as Error).message}`, '(root)', file);
  }
  return validateView(json, name);
}

async function listNames(root: string): Promise<string[]> {
  try {
    return (await fsp.readdir(within(root, VIEWS_DIR)))
      .filter((f) => f.endsWith(VIEW_SUFFIX))
      .map((f) => f.slice(0, -VIEW_SUFFIX.length));
  } catch {
    return [];
  }
}

/** Validates and writes the view `name` (replacing one of that name); returns it as stored. */
export async function saveView(root: string, name: string, input: unknown): Promise<SavedView> {
  const file = viewFile(root, name);
  const view = validateView(input, name);
  fs.mkdirSync(within(root, VIEWS_DIR), { recursive: true });
  confine(root, file);
  await writeFileAtomic(file, `${JSON.stringify(view, null, 2)}\n`);
  return view;
}

/** Removes the view `name`; NotFoundError when there is none. */
export async function deleteView(root: string, name: string): Promise<void> {
  const file = viewFile(root, name);
  confine(root, file);
  try {
    await fsp.unlink(file);
  } catch {
    throw new NotFoundError('view', name, closest(name, await listNames(root)));
  }
}
