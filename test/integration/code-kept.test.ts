// Code kept with every run (runner/code-kept.ts) through the built CLI, in a real git repository: the
// protocol file as it was run and, in a dirty tree, `git diff HEAD` and untracked names are sealed in
// `runs/<id>/code/`; binary and oversized files are skipped; `reproduce` says the code changed before
// re-running; `specimen diff` prints unified diffs of the kept files and the compare page names them; a
// Python writer (begin/seal, and a real `python3 train.py` with the package) keeps the script its
// `sys.argv` names.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_FILE_MAX_BYTES } from '../../src/format/layout.js';
import { beginRun, sealExternalRun } from '../../src/runner/external-run.js';
import type { CompareResponse } from '../../src/server/api-types.js';
import { startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { REPO_ROOT, runCli, tempDir } from '../support/helpers.js';
import { request } from '../support/http.js';

const S = '2026_01_02_code_kept';

describe('code kept with a run', () => {
  let dir: string;
  let specimenDir: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
  const runs = async () => (await SpecimenStorage.open(S, { vault: dir })).listRunInfo();

  beforeAll(async () => {
    dir = tempDir('sv-code-');
    expect((await runCli(['init', dir])).code).toBe(0);
    expect(
      (await runCli(['new', S, '--domain', 'training', '--method', 'fine_tuning'], { cwd: dir })).code,
    ).toBe(0);
    specimenDir = path.join(dir, 'specimens', S);
    fs.writeFileSync(path.join(specimenDir, 'protocol.py'), "print('lr', 0.1)\n");
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'start');
  }, 60_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('seals the protocol file in a clean tree, and the diff and untracked names in a dirty one', async () => {
    const clean = await runCli(['run', S], { cwd: dir });
    expect(clean.code, clean.stderr).toBe(0);
    fs.writeFileSync(path.join(specimenDir, 'protocol.py'), "print('lr', 0.01)\n");
    fs.writeFileSync(path.join(specimenDir, 'helper.py'), 'x = 1\n');
    // Binary and oversized protocol files are skipped, and the run still succeeds.
    fs.writeFileSync(path.join(specimenDir, 'protocol.bin'), Buffer.from([0, 1, 2, 0]));
    fs.writeFileSync(path.join(specimenDir, 'protocol.txt'), 'a'.repeat(CODE_FILE_MAX_BYTES + 1));
    const dirty = await runCli(['run', S], { cwd: dir });
    expect(dirty.code, dirty.stderr).toBe(0);

    const [a, b] = await runs();
    expect(fs.readdirSync(path.join(a!.path, 'code'))).toEqual(['protocol.py']);
    expect(a!.manifest!.code).toEqual({ dir: 'code', files: ['protocol.py'], skipped: [] });
    expect(Object.keys(a!.manifest!.files ?? {})).toContain('code/protocol.py');

    expect(fs.readdirSync(path.join(b!.path, 'code')).sort()).toEqual([
      'git.diff',
      'protocol.py',
      'untracked.txt',
    ]);
    expect(fs.readFileSync(path.join(b!.path, 'code', 'protocol.py'), 'utf8')).toBe("print('lr', 0.01)\n");
    const diff = fs.readFileSync(path.join(b!.path, 'code', 'git.diff'), 'utf8');
    expect(diff).toContain(`+++ b/specimens/${S}/protocol.py`);
    expect(diff).toContain("+print('lr', 0.01)");
    // The run folders are data, not code.
    expect(diff).not.toContain('/runs/');
    const untracked = fs.readFileSync(path.join(b!.path, 'code', 'untracked.txt'), 'utf8').split('\n');
    expect(untracked).toContain(`specimens/${S}/helper.py`);
    expect(untracked.some((l) => l.includes('/runs/'))).toBe(false);
    const skipped = (b!.manifest!.code as { skipped: { file: string }[] }).skipped.map((s) => s.file);
    expect(skipped.sort()).toEqual(['protocol.bin', 'protocol.txt']);
    // Hashed and sealed like every other file: an edit is caught by verify.
    const files = b!.manifest!.files as Record<string, { sha256: string }>;
    expect(files['code/git.diff']?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await runCli(['verify', S], { cwd: dir })).code).toBe(0);
    fs.rmSync(path.join(specimenDir, 'protocol.bin'));
    fs.rmSync(path.join(specimenDir, 'protocol.txt'));
  });

  it('`specimen diff` prints a unified diff of the kept code, and the compare page names the files', async () => {
    const [a, b] = await runs();
    const ra = `${S}/${a!.runId}`;
    const rb = `${S}/${b!.runId}`;
    const text = await runCli(['diff', ra, rb], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('code protocol.py:');
    expect(text.stdout).toContain(`--- ${ra}/protocol.py`);
    expect(text.stdout).toContain("-print('lr', 0.1)\n+print('lr', 0.01)");
    expect(text.stdout).toContain('code git.diff:');
    const json = JSON.parse((await runCli(['diff', ra, rb, '--json'], { cwd: dir })).stdout) as {
      code_files: { file: string; patch: string }[];
    };
    expect(json.code_files.map((f) => f.file)).toEqual(['git.diff', 'protocol.py', 'untracked.txt']);

    const server = await startServer({ vaultRoot: dir, port: 0, index: false, watch: false });
    try {
      const r = await request(
        server.port,
        `/api/compare?run=${encodeURIComponent(ra)}&run=${encodeURIComponent(rb)}`,
      );
      expect(r.status, r.text).toBe(200);
      const keys = (JSON.parse(r.text) as CompareResponse).differences
        .filter((d) => d.section === 'code')
        .map((d) => d.key);
      expect(keys).toEqual(expect.arrayContaining(['code file protocol.py', 'code file git.diff']));
    } finally {
      await server.close();
    }
  });

  it('`specimen reproduce` says how the current code differs before re-running, and records it', async () => {
    const [a] = await runs();
    // The tree now holds the second run's edit: protocol.py differs from the first run's and a diff exists.
    const r = await runCli(['reproduce', S, '--run', a!.runId, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("the code differs from the recorded run's");
    expect(r.stderr).toContain('protocol.py: changed');
    expect(r.stderr).toContain('git.diff: not in the recorded run, present now');
    const out = JSON.parse(r.stdout) as { run: string; code_differs: string[] };
    expect(out.code_differs).toContain('protocol.py: changed');
    const again = (await runs()).find((x) => x.runId === out.run)!;
    expect((again.manifest!.reproduction as { code_differs: string[] }).code_differs).toContain(
      'protocol.py: changed',
    );

    // Committed and restored to the first run's text: the protocol is the same again, the commit is not.
    fs.writeFileSync(path.join(specimenDir, 'protocol.py'), "print('lr', 0.1)\n");
    fs.rmSync(path.join(specimenDir, 'helper.py'));
    const same = await runCli(['reproduce', S, '--run', a!.runId], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toContain('protocol.py: changed');
    expect(same.stderr).not.toContain('git.diff');
    git('add', '-A', 'specimens');
    git('commit', '-qm', 'runs');
    const moved = await runCli(['reproduce', S, '--run', a!.runId], { cwd: dir });
    expect(moved.stderr).toMatch(/git commit [0-9a-f]{12} → [0-9a-f]{12}/);
  }, 60_000);

  it('keeps the script a Python writer names in sys.argv, resolved against its working directory', async () => {
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, 'train.py'), 'import specimen_vault as sv\n');
    const vault = await Vault.open(dir);
    const begun = await beginRun(vault, S, {
      command: ['train.py', '--lr', '0.1'],
      cwd: work,
      language: 'python',
      python_version: '3.11.7',
      python_packages: [],
    });
    await sealExternalRun(vault, S, begun.run_id);
    const run = (await runs()).find((x) => x.runId === begun.run_id)!;
    expect(fs.readFileSync(path.join(run.path, 'code', 'train.py'), 'utf8')).toBe(
      'import specimen_vault as sv\n',
    );
    expect(Object.keys(run.manifest!.files ?? {})).toContain('code/train.py');
    // The protocol file is not the code of a script run.
    expect(fs.existsSync(path.join(run.path, 'code', 'protocol.py'))).toBe(false);
  });

  it('keeps the script of a real `python3 train.py` using the Python package', async () => {
    const work = path.join(dir, 'py');
    fs.mkdirSync(work);
    const script = [
      'import specimen_vault as sv',
      `run = sv.init(${JSON.stringify(S)}, config={"lr": 0.1})`,
      'run.log({"loss": 1.0}, step=0)',
      'sv.finish()',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(work, 'train.py'), script);
    const before = new Set((await runs()).map((r) => r.runId));
    const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'python3',
        ['train.py'],
        {
          cwd: work,
          env: {
            ...process.env,
            PYTHONPATH: path.join(REPO_ROOT, 'python'),
            SPECIMEN_CLI: `${process.execPath} ${path.join(REPO_ROOT, 'dist', 'cli', 'main.js')}`,
            SPECIMEN_VAULT: dir,
          },
          timeout: 60_000,
        },
        (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      );
    });
    expect(out.code, out.stderr).toBe(0);
    const run = (await runs()).find((r) => !before.has(r.runId))!;
    expect(run.sealed).toBe(true);
    expect(fs.readFileSync(path.join(run.path, 'code', 'train.py'), 'utf8')).toBe(script);
    expect(Object.keys(run.manifest!.files ?? {})).toContain('code/train.py');
  }, 90_000);
});
