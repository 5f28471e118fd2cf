/**
 * Code kept with a run: the protocol file(s) as they were run, and in a dirty git tree `git diff HEAD` and
 * the names of untracked files, written to `runs/<id>/code/` before sealing so they are hashed with the run.
 * Cheap by construction: files over CODE_FILE_MAX_BYTES and binary files are skipped (listed as skipped in
 * the manifest's `code` field), and git is asked nothing when the tree is clean.
 *
 * @example
 * const kept = await keepCode(runDir, { files: [path.join(specimenDir, 'protocol.py')], gitCwd: specimenDir })
 * kept.files   // ['protocol.py', 'git.diff']
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import {
  CODE_DIR,
  CODE_FILE_MAX_BYTES,
  CODE_GIT_DIFF_FILE,
  CODE_UNTRACKED_FILE,
  PENDING_DIR,
  RUNS_DIR,
} from '../format/layout.js';
import type { PlainObject } from '../format/msgpack.js';

/** What keepCode kept and skipped (recorded as the manifest's `code`). */
export interface KeptCode {
  files: string[];
  skipped: { file: string; reason: string }[];
}

function git(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, timeout: 10_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, out) => resolve(err ? undefined : out),
    );
  });
}

/** A NUL byte in the first 8 KiB marks a file as binary (git's own rule). */
function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

/** The specimen's `protocol.*` files (not folders, not editor backups). */
export function protocolFiles(specimenDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(specimenDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^protocol\.[A-Za-z0-9]+$/.test(n))
    .map((n) => path.join(specimenDir, n))
    .filter((f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile())
    .sort();
}

/**
 * The script a writer names in its command line (`python train.py …` sends `sys.argv`, whose first item is
 * the script), resolved against its working directory; undefined when it is not a file (`-c`, Jupyter).
 */
export function scriptOf(command: string[] | undefined, cwd: string | undefined): string | undefined {
  if (!command || cwd === undefined) return undefined;
  // `sys.argv` starts with the script; a command line that names its interpreter first is read past it.
  const first = /^python[0-9.]*(\.exe)?$/.test(path.basename(command[0] ?? '')) ? command[1] : command[0];
  // In Jupyter argv[0] is the kernel's launcher, not the user's code.
  if (!first || first.startsWith('-') || /ipykernel_launcher\.py$/.test(first)) return undefined;
  const file = path.resolve(cwd, first);
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ? file : undefined;
}

/** What git adds to the kept code of a dirty tree: `git.diff` and `untracked.txt` (null: too large). */
type GitCode = Map<string, string | null>;

/**
 * Git's part of the kept code: in a dirty tree (as provenance counts it: tracked changes) the diff against
 * HEAD and the untracked names, the run folders left out (they are data, not code).
 */
async function gitCode(cwd: string): Promise<GitCode> {
  const out: GitCode = new Map();
  const status = await git(['status', '--porcelain', '--untracked-files=no'], cwd);
  if (!status?.trim()) return out;
  // Without --binary git writes "Binary files … differ" for binary changes: the diff stays text.
  // The run folders themselves (sealed, and staged by a writer without the CLI) are data, not code:
  // left out of the diff and the untracked list. python/specimen_vault/_code.py follows these rules.
  const exclude = [RUNS_DIR, PENDING_DIR].map((d) => `:(top,exclude,glob)**/${d}/**`);
  const diff = await git(['diff', 'HEAD', '--', ':(top)', ...exclude], cwd);
  if (diff) out.set(CODE_GIT_DIFF_FILE, Buffer.byteLength(diff) > CODE_FILE_MAX_BYTES ? null : diff);
  const untracked = await git(
    ['ls-files', '--others', '--exclude-standard', '--full-name', '--', ':(top)', ...exclude],
    cwd,
  );
  if (untracked?.trim()) out.set(CODE_UNTRACKED_FILE, untracked);
  return out;
}

/**
 * The current code of a run's working tree, as keepCode would keep it: name → text (or null if skipped).
 * `gitCache` (per working directory) reuses git's part, as `specimen session` reuses the provenance it
 * belongs with: git runs up to three times, ~5 ms each, which a sweep of short runs would pay per run.
 */
export async function currentCode(options: {
  files: string[];
  gitCwd?: string;
  gitCache?: Map<string, Promise<GitCode>>;
}): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const file of options.files) {
    const name = path.basename(file);
    if (out.has(name) || name === CODE_GIT_DIFF_FILE || name === CODE_UNTRACKED_FILE) continue;
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (st.size > CODE_FILE_MAX_BYTES) {
      out.set(name, null);
      continue;
    }
    const buf = await fsp.readFile(file);
    out.set(name, isBinary(buf) ? null : buf.toString('utf8'));
  }
  if (options.gitCwd) {
    const cwd = options.gitCwd;
    let fromGit = options.gitCache?.get(cwd);
    if (!fromGit) {
      fromGit = gitCode(cwd);
      options.gitCache?.set(cwd, fromGit);
    }
    for (const [name, text] of await fromGit) out.set(name, text);
  }
  return out;
}

/**
 * Writes the code of a run into `<runDir>/code/`. Never throws: code that cannot be read or written is
 * recorded as skipped, as keeping code must not fail a run.
 */
export async function keepCode(
  runDir: string,
  options: { files: string[]; gitCwd?: string; gitCache?: Map<string, Promise<GitCode>> },
): Promise<KeptCode> {
  const kept: KeptCode = { files: [], skipped: [] };
  let code: Map<string, string | null>;
  try {
    code = await currentCode(options);
  } catch (err) {
    kept.skipped.push({ file: '*', reason: (err as Error).message });
    return kept;
  }
  if (code.size === 0) return kept;
  const dir = path.join(runDir, CODE_DIR);
  for (const [name, text] of code) {
    if (text === null) {
      kept.skipped.push({ file: name, reason: `binary or over ${CODE_FILE_MAX_BYTES} bytes` });
      continue;
    }
    try {
      await fsp.mkdir(dir, { recursive: true });
      await writeFileAtomic(path.join(dir, name), text, { sync: false });
      kept.files.push(name);
    } catch (err) {
      kept.skipped.push({ file: name, reason: (err as Error).message });
    }
  }
  return kept;
}

/** The manifest field recording what was kept. */
export function keptCodeField(kept: KeptCode): PlainObject {
  return { dir: CODE_DIR, files: kept.files, skipped: kept.skipped.map((s) => ({ ...s })) };
}

/** The code files kept in a run directory: name → text. */
export async function readKeptCode(runDir: string): Promise<Map<string, string>> {
  const dir = path.join(runDir, CODE_DIR);
  const out = new Map<string, string>();
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const n of names.sort()) {
    if (n.startsWith('.tmp-')) continue;
    out.set(n, await fsp.readFile(path.join(dir, n), 'utf8'));
  }
  return out;
}
