// A vault in a real git repository with two runs of one protocol through the built CLI: the first in a clean
// tree (its protocol.py kept), the second after editing protocol.py, adding an untracked helper and a binary
// protocol file (so `code/` holds protocol.py, git.diff and untracked.txt, and the manifest lists
// protocol.bin as skipped). For the Code card and the compare page's code diffs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { runCli, tempDir } from './helpers.js';

export const CODE_SPECIMEN = '2026_01_02_code_card';

export interface CodeVault {
  dir: string;
  specimenDir: string;
  /** The clean run, then the dirty one. */
  runs: [{ runId: string; path: string }, { runId: string; path: string }];
}

export async function buildCodeVault(): Promise<CodeVault> {
  const dir = tempDir('sv-code-card-');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  const ok = async (args: string[]) => {
    const r = await runCli(args, { cwd: dir });
    if (r.code !== 0) throw new Error(`specimen ${args.join(' ')}: ${r.stderr}`);
  };
  await ok(['init', dir]);
  await ok(['new', CODE_SPECIMEN, '--domain', 'training', '--method', 'fine_tuning']);
  const specimenDir = path.join(dir, 'specimens', CODE_SPECIMEN);
  fs.writeFileSync(path.join(specimenDir, 'protocol.py'), "lr = 0.1\nprint('lr', lr)\nprint('done')\n");
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'start');
  await ok(['run', CODE_SPECIMEN]);
  fs.writeFileSync(path.join(specimenDir, 'protocol.py'), "lr = 0.01\nprint('lr', lr)\nprint('done')\n");
  fs.writeFileSync(path.join(specimenDir, 'helper.py'), 'x = 1\n');
  fs.writeFileSync(path.join(specimenDir, 'protocol.bin'), Buffer.from([0, 1, 2, 0]));
  await ok(['run', CODE_SPECIMEN]);
  const runs = (await (await SpecimenStorage.open(CODE_SPECIMEN, { vault: dir })).listRunInfo()).map((r) => ({
    runId: r.runId,
    path: r.path,
  }));
  if (runs.length !== 2) throw new Error(`expected two runs, got ${runs.length}`);
  return { dir, specimenDir, runs: runs as CodeVault['runs'] };
}
