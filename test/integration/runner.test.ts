// `specimen run`, `reproduce` and `supersede` through the built CLI, with real child processes.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateRunManifest } from '../../src/format/manifest.js';
import { readManifestFile } from '../../src/format/msgpack.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { readSupersessions } from '../../src/storage/supersede.js';
import { Vault } from '../../src/storage/vault.js';
import { CLI, DEBIAN_PYTHON, REPO_ROOT, runCli, tempDir } from '../support/helpers.js';
import { pythonAvailable } from '../support/python.js';

let vaultDir: string;

async function newSpecimen(id: string, protocol?: 'ts' | 'js' | 'py'): Promise<void> {
  const r = await runCli(
    [
      'new',
      id,
      '--domain',
      'training',
      '--method',
      'fine_tuning',
      ...(protocol ? ['--protocol', protocol] : []),
    ],
    {
      cwd: vaultDir,
    },
  );
  expect(r.code, r.stderr).toBe(0);
}

async function runs(id: string) {
  return (await SpecimenStorage.open(id, { vault: vaultDir })).listRunInfo();
}

beforeAll(async () => {
  vaultDir = tempDir('sv-runner-');
  expect((await runCli(['init', vaultDir])).code).toBe(0);
});

describe('specimen run', () => {
  it.each(['ts', 'js', 'py'] as const)(
    'runs the %s protocol template and seals the run with its metrics',
    async (lang) => {
      const id = `2025_01_02_template_${lang}`;
      await newSpecimen(id, lang);
      const r = await runCli(['run', id, '--seed', '7', '--set', 'steps=50', '--set', 'lr=0.1'], {
        cwd: vaultDir,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('logged 50 steps');
      const [run] = await runs(id);
      expect(run?.status).toBe('succeeded');
      expect(run?.sealed).toBe(true);
      const m = run!.manifest!;
      expect(validateRunManifest({ ...m })).toBeTruthy();
      expect(m.seeds).toEqual({ global: 7 });
      expect(m.config).toEqual({ steps: 50, lr: 0.1 });
      expect(m.exit_code).toBe(0);
      expect((m.host as { cpu_cores: number }).cpu_cores).toBeGreaterThan(0);
      expect((m.runtime as { node: string }).node).toBe(process.version);
      expect(m.protocol).toBe(`protocol.${lang}`);
      const t = await (await SpecimenStorage.open(id, { vault: vaultDir })).readMetrics();
      expect(t.numRows).toBe(50);
      expect(fs.readFileSync(path.join(run!.path, 'stdout.log'), 'utf8')).toContain('logged 50 steps');
      expect(fs.existsSync(path.join(run!.path, 'metrics.jsonl'))).toBe(false);
    },
  );

  it('passes the documented environment and records git state, streaming output to the logs', async () => {
    await newSpecimen('2025_01_02_env');
    const r = await runCli(
      [
        'run',
        '2025_01_02_env',
        '--seed',
        '3',
        '--set',
        'opt.lr=0.5',
        '--',
        process.execPath,
        '-e',
        "const e=process.env;console.log(JSON.stringify({v:e.SPECIMEN_VAULT,id:e.SPECIMEN_ID,run:e.SPECIMEN_RUN_ID,dir:e.SPECIMEN_RUN_DIR,seed:e.SPECIMEN_SEED,config:e.SPECIMEN_CONFIG,cwd:process.cwd()}));console.error('to stderr')",
      ],
      { cwd: vaultDir },
    );
    expect(r.code, r.stderr).toBe(0);
    const env = JSON.parse(r.stdout.trim());
    const [run] = await runs('2025_01_02_env');
    expect(env).toEqual({
      v: vaultDir,
      id: '2025_01_02_env',
      run: run!.runId,
      dir: run!.path,
      seed: '3',
      config: JSON.stringify({ opt: { lr: 0.5 } }),
      cwd: path.join(vaultDir, 'specimens', '2025_01_02_env'),
    });
    expect(fs.readFileSync(path.join(run!.path, 'stderr.log'), 'utf8')).toBe('to stderr\n');
    expect(r.stderr).toContain('to stderr');
  });

  it('records the git commit, branch, dirty flag and diff hash of a vault in a work tree', async () => {
    const dir = tempDir('sv-git-');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
        cwd: dir,
        encoding: 'utf8',
      }).trim();
    expect((await runCli(['init', dir])).code).toBe(0);
    expect(
      (
        await runCli(['new', '2025_01_02_git', '--domain', 'training', '--method', 'fine_tuning'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'start');
    const clean = await runCli(['run', '2025_01_02_git', '--', 'true'], { cwd: dir });
    expect(clean.code, clean.stderr).toBe(0);
    fs.appendFileSync(path.join(dir, 'specimens', '2025_01_02_git', 'field_notes.md'), 'edited\n');
    expect((await runCli(['run', '2025_01_02_git', '--', 'true'], { cwd: dir })).code).toBe(0);
    const [a, b] = await (await SpecimenStorage.open('2025_01_02_git', { vault: dir })).listRunInfo();
    const head = git('rev-parse', 'HEAD');
    expect(a?.manifest?.git).toMatchObject({ commit: head, branch: 'main', dirty: false, diff_sha256: null });
    expect(b?.manifest?.git).toMatchObject({ commit: head, branch: 'main', dirty: true });
    expect((b!.manifest!.git as { diff_sha256: string }).diff_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records a protocol that exits non-zero as failed, keeps its logs and returns its exit code', async () => {
    await newSpecimen('2025_01_02_fails');
    const r = await runCli(
      ['run', '2025_01_02_fails', '--', 'sh', '-c', 'echo partial; echo broken >&2; exit 7'],
      { cwd: vaultDir },
    );
    expect(r.code).toBe(7);
    const [run] = await runs('2025_01_02_fails');
    expect(run?.status).toBe('failed');
    expect(run?.manifest?.exit_code).toBe(7);
    expect(fs.readFileSync(path.join(run!.path, 'stdout.log'), 'utf8')).toBe('partial\n');
    expect(fs.readFileSync(path.join(run!.path, 'stderr.log'), 'utf8')).toBe('broken\n');
  });

  it('records a protocol killed by a signal as failed with the signal', async () => {
    await newSpecimen('2025_01_02_killed');
    const r = await runCli(['run', '2025_01_02_killed', '--', 'sh', '-c', 'kill -KILL $$'], {
      cwd: vaultDir,
    });
    expect(r.code).toBe(137);
    const [run] = await runs('2025_01_02_killed');
    expect(run?.status).toBe('failed');
    expect(run?.manifest?.signal).toBe('SIGKILL');
  });

  it('explains a missing protocol and writes no run', async () => {
    await newSpecimen('2025_01_02_noproto');
    const r = await runCli(['run', '2025_01_02_noproto'], { cwd: vaultDir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /no protocol\.ts, protocol\.js, protocol\.mjs or protocol\.py.*specimen new --protocol/,
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(await runs('2025_01_02_noproto')).toEqual([]);
  });

  it('reports an unknown interpreter and records the run as failed', async () => {
    await newSpecimen('2025_01_02_badpy', 'py');
    const r = await runCli(['run', '2025_01_02_badpy', '--python', '/nonexistent/python9'], {
      cwd: vaultDir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot start "/nonexistent/python9": no such program (pass --python PATH');
    const [run] = await runs('2025_01_02_badpy');
    expect(run?.status).toBe('failed');
  });

  it('rejects a config value that is not valid JSON, naming it, before starting anything', async () => {
    await newSpecimen('2025_01_02_badset', 'js');
    const r = await runCli(['run', '2025_01_02_badset', '--set', 'layers=[1,2'], { cwd: vaultDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--set layers: value "[1,2" is not valid JSON');
    expect(await runs('2025_01_02_badset')).toEqual([]);
    const ok = await runCli(['run', '2025_01_02_badset', '--set', 'optimizer=adam', '--set', 'steps=3'], {
      cwd: vaultDir,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runs('2025_01_02_badset'))[0]?.manifest?.config).toEqual({ optimizer: 'adam', steps: 3 });
  });

  it('keeps good metric lines, reports malformed ones by line number, and preserves NaN/Infinity', async () => {
    await newSpecimen('2025_01_02_garbage');
    const script = [
      'const fs=require("fs");const f=process.env.SPECIMEN_RUN_DIR+"/metrics.jsonl";',
      'fs.writeFileSync(f,[',
      '"{\\"step\\":0,\\"loss\\":1.5}",',
      '"not json at all",',
      '"{\\"step\\":1,\\"loss\\":NaN}",',
      '"[1,2,3]",',
      '"{\\"step\\":2,\\"loss\\":Infinity,\\"tag\\":\\"NaN inside a string\\"}",',
      '"{\\"step\\":3,\\"loss\\":-Infinity}",',
      '"{\\"step\\":4,\\"loss\\":\\"oops\\"}",',
      '""].join("\\n"));',
    ].join('');
    const r = await runCli(['run', '2025_01_02_garbage', '--', process.execPath, '-e', script], {
      cwd: vaultDir,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /3 malformed line\(s\) in metrics\.jsonl skipped \(line 2: .*; line 4: .*; line 7: .*\); 4 good line\(s\) kept/,
    );
    const s = await SpecimenStorage.open('2025_01_02_garbage', { vault: vaultDir });
    const t = await s.readMetrics();
    expect(t.numRows).toBe(4);
    expect([...(t.getChild('loss')?.toArray() ?? [])]).toEqual([
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(t.getChild('tag')?.get(2)).toBe('NaN inside a string');
    const [run] = await s.listRunInfo();
    expect(run?.manifest?.metrics_rejected_lines).toBe(3);
    expect(
      fs.readFileSync(path.join(run!.path, 'metrics.rejected.jsonl'), 'utf8').split('\n').filter(Boolean),
    ).toHaveLength(3);
  });

  it('reports a metric line with an unwritable column name as malformed, not as an internal error', async () => {
    await newSpecimen('2025_01_02_badname');
    const lines = ['{"step":0,"loss":1}', '{"step":1,"":2}', '{"step":2,"Loss":3}', '{"step":3,"loss":4}'];
    const script = `require("fs").writeFileSync(process.env.SPECIMEN_RUN_DIR+"/metrics.jsonl",${JSON.stringify(`${lines.join('\n')}\n`)})`;
    const r = await runCli(['run', '2025_01_02_badname', '--', process.execPath, '-e', script], {
      cwd: vaultDir,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('unexpected failure');
    expect(r.stderr).toContain('line 2: metrics: a column name is empty');
    expect(r.stderr).toContain('line 3: metrics: column "Loss" differs from column "loss" only in case');
    const s = await SpecimenStorage.open('2025_01_02_badname', { vault: vaultDir });
    const t = await s.readMetrics();
    expect([...(t.getChild('loss')?.toArray() ?? [])]).toEqual([1n, 4n]);
    expect((await s.listRunInfo())[0]?.manifest?.metrics_rejected_lines).toBe(2);
  });

  it('starts a run without loading the table, schema or DuckDB modules it does not use', async () => {
    await newSpecimen('2025_01_02_lean');
    const dir = tempDir('sv-modules-');
    const hook = path.join(dir, 'list-modules.cjs');
    const list = path.join(dir, 'modules.json');
    fs.writeFileSync(
      hook,
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const r = await runCli(['run', '2025_01_02_lean', '--', 'true'], {
      cwd: vaultDir,
      env: { NODE_OPTIONS: `--require ${hook}` },
    });
    expect(r.code, r.stderr).toBe(0);
    const loaded = JSON.parse(fs.readFileSync(list, 'utf8')) as string[];
    const has = (pkg: string) =>
      loaded.some((f) => f.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`));
    expect(has('commander')).toBe(true);
    expect(has('@msgpack/msgpack'.replace('/', path.sep))).toBe(true);
    for (const pkg of ['cli-table3', 'zod', '@duckdb', 'apache-arrow']) expect(has(pkg), pkg).toBe(false);
  });

  it('lets a TypeScript protocol write through SpecimenStorage into the runner’s run', async () => {
    await newSpecimen('2025_01_02_tsapi');
    fs.writeFileSync(
      path.join(vaultDir, 'specimens', '2025_01_02_tsapi', 'protocol.ts'),
      `import { SpecimenStorage } from 'specimen-vault';
const storage = await SpecimenStorage.open(process.env.SPECIMEN_ID!);
await storage.startRun();
const w = storage.metricsWriter();
for (let step = 0; step < 20; step++) w.log({ step, loss: 1 / (step + 1) });
await storage.writeTensors('weights', new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
await storage.finish({ summary: { final: 0.05 } });
console.log('wrote into', storage.runId);
`,
    );
    const r = await runCli(['run', '2025_01_02_tsapi'], { cwd: vaultDir });
    expect(r.code, r.stderr).toBe(0);
    const all = await runs('2025_01_02_tsapi');
    expect(all).toHaveLength(1);
    expect(r.stdout.trim()).toBe(`wrote into ${all[0]!.runId}`);
    expect(all[0]?.status).toBe('succeeded');
    expect(all[0]?.manifest?.summary).toEqual({ final: 0.05 });
    const s = await SpecimenStorage.open('2025_01_02_tsapi', { vault: vaultDir });
    expect((await s.readMetrics()).numRows).toBe(20);
    expect([...(await (await s.readTensorLazy('weights')).readAll()).data]).toEqual([1, 2, 3, 4]);
  });

  it.runIf(pythonAvailable())(
    'turns the Python helper’s log() and write_tensor() into Parquet and Zarr',
    async () => {
      await newSpecimen('2025_01_02_pyhelper');
      fs.writeFileSync(
        path.join(vaultDir, 'specimens', '2025_01_02_pyhelper', 'protocol.py'),
        `import numpy as np
import specimen_vault as sv
for step in range(10):
    sv.log(step=step, loss=np.float32(1.0 / (step + 1)), lr=0.1 if step < 5 else 0.05)
sv.write_tensor("w", np.arange(12, dtype=np.int16).reshape(3, 4))
sv.write_tensor("f", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))
`,
      );
      const r = await runCli(['run', '2025_01_02_pyhelper', '--python', DEBIAN_PYTHON], { cwd: vaultDir });
      expect(r.code, r.stderr).toBe(0);
      const s = await SpecimenStorage.open('2025_01_02_pyhelper', { vault: vaultDir });
      const t = await s.readMetrics();
      expect(t.numRows).toBe(10);
      expect(Number(t.getChild('step')?.get(9))).toBe(9);
      const w = await s.readTensorLazy('w');
      expect([w.dtype, ...w.shape]).toEqual(['int16', 3, 4]);
      expect([...(await w.read([2, null])).data]).toEqual([8, 9, 10, 11]);
      const f = await s.readTensorLazy('f');
      expect([...(await f.readAll()).data]).toEqual([0, 1, 2, 3, 4, 5]);
      const [run] = await s.listRunInfo();
      expect((run!.manifest!.runtime as { python?: string }).python).toMatch(/^3\./);
    },
  );

  it('gives sixteen concurrent runs of one specimen sixteen distinct sealed runs', async () => {
    await newSpecimen('2025_01_02_sixteen');
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        runCli(['run', '2025_01_02_sixteen', '--seed', String(i), '--', 'true'], { cwd: vaultDir }),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(16).fill(0));
    const all = await runs('2025_01_02_sixteen');
    expect(all).toHaveLength(16);
    expect(new Set(all.map((r) => r.runId)).size).toBe(16);
    expect(all.every((r) => r.sealed && r.status === 'succeeded')).toBe(true);
    expect(new Set(all.map((r) => (r.manifest!.seeds as { global: number }).global)).size).toBe(16);
  }, 120_000);

  it('stops the protocol on SIGINT and seals the run as interrupted; a SIGKILLed runner leaves it incomplete', async () => {
    await newSpecimen('2025_01_02_signals');
    const start = (): ReturnType<typeof spawn> =>
      spawn(
        process.execPath,
        [CLI, 'run', '2025_01_02_signals', '--', 'sh', '-c', 'echo started; sleep 30'],
        {
          cwd: vaultDir,
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
    const waitStarted = (p: ReturnType<typeof spawn>) =>
      new Promise<void>((resolve) =>
        p.stdout?.on('data', (d: Buffer) => d.toString().includes('started') && resolve()),
      );
    const a = start();
    await waitStarted(a);
    a.kill('SIGINT');
    const code = await new Promise<number | null>((r) => a.once('exit', (c) => r(c)));
    expect(code).toBe(130);
    const others = (): string[] =>
      fs
        .readdirSync(path.join(vaultDir, 'specimens'), { recursive: true, encoding: 'utf8' })
        .filter((p) => !p.startsWith('2025_01_02_signals'))
        .sort();
    const before = others();
    const b = start();
    await waitStarted(b);
    b.kill('SIGKILL');
    await new Promise((r) => b.once('exit', r));
    const all = await runs('2025_01_02_signals');
    expect(all.map((r) => r.status).sort()).toEqual(['incomplete', 'interrupted']);
    // Nothing outside that run is affected.
    expect(others()).toEqual(before);
  }, 60_000);
});

describe('specimen reproduce and supersede', () => {
  it('reports identical for a seeded protocol and records the verdict in the new run', async () => {
    await newSpecimen('2025_01_02_repro', 'py');
    expect((await runCli(['run', '2025_01_02_repro', '--seed', '11'], { cwd: vaultDir })).code).toBe(0);
    const [orig] = await runs('2025_01_02_repro');
    const r = await runCli(['reproduce', '2025_01_02_repro'], { cwd: vaultDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('identical');
    const all = await runs('2025_01_02_repro');
    expect(all).toHaveLength(2);
    const rep = all[1]!.manifest!.reproduction as { of: string; verdict: string; rows_compared: number };
    expect(rep).toMatchObject({ of: orig!.runId, verdict: 'identical', rows_compared: 100 });
    expect(all[1]!.manifest!.seeds).toEqual({ global: 11 });
  });

  it('finds the first differing column and step, honours --ignore and tolerances', async () => {
    await newSpecimen('2025_01_02_nondet');
    // wall is nondeterministic; loss differs only from step 3 on, by a tiny amount that depends on the run.
    fs.writeFileSync(
      path.join(vaultDir, 'specimens', '2025_01_02_nondet', 'protocol.js'),
      `import fs from 'node:fs';
const jitter = Number(process.env.SPECIMEN_RUN_ID.replace(/\\D/g, '').slice(-3)) * 1e-9 + 1e-9;
const lines = [];
for (let step = 0; step < 6; step++) lines.push(JSON.stringify({ step, loss: 1 / (step + 1) + (step >= 3 ? jitter : 0), wall: Date.now() + Math.random() }));
fs.writeFileSync(process.env.SPECIMEN_RUN_DIR + '/metrics.jsonl', lines.join('\\n') + '\\n');
`,
    );
    expect((await runCli(['run', '2025_01_02_nondet'], { cwd: vaultDir })).code).toBe(0);
    const differs = await runCli(['reproduce', '2025_01_02_nondet', '--json'], { cwd: vaultDir });
    expect(differs.code).toBe(1);
    const v = JSON.parse(differs.stdout);
    expect(v.verdict).toBe('differs');
    expect(v.firstDifference).toMatchObject({ kind: 'metrics', name: 'loss', at: 3 });
    const [first] = await runs('2025_01_02_nondet');
    const ignored = await runCli(
      ['reproduce', '2025_01_02_nondet', '--run', first!.runId, '--ignore', 'wall'],
      { cwd: vaultDir },
    );
    expect(ignored.code).toBe(1);
    expect(ignored.stdout).toMatch(/first difference: metrics loss at step 3/);
    const tolerant = await runCli(
      ['reproduce', '2025_01_02_nondet', '--run', first!.runId, '--ignore', 'wall', '--atol', '1e-5'],
      {
        cwd: vaultDir,
      },
    );
    expect(tolerant.code, tolerant.stdout).toBe(0);
    expect(tolerant.stdout).toContain('within tolerance');
  });

  it('records supersession separately without touching the sealed run', async () => {
    const all = await runs('2025_01_02_repro');
    const [a, b] = all;
    const before = fs.readFileSync(path.join(a!.path, 'manifest.msgpack'));
    const r = await runCli(
      ['supersede', '2025_01_02_repro', a!.runId, '--by', b!.runId, '--reason', 'rerun with fix'],
      { cwd: vaultDir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(a!.path, 'manifest.msgpack')).equals(before)).toBe(true);
    const rec = await readSupersessions(path.join(vaultDir, 'specimens', '2025_01_02_repro'));
    expect(rec[a!.runId]).toMatchObject({ by: b!.runId, reason: 'rerun with fix' });
    const bad = await runCli(['supersede', '2025_01_02_repro', a!.runId, '--by', '20990101_000000'], {
      cwd: vaultDir,
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('not found');
    // b superseded by a would close a cycle (a is superseded by b): refused, the record unchanged.
    const cycle = await runCli(['supersede', '2025_01_02_repro', b!.runId, '--by', a!.runId], {
      cwd: vaultDir,
    });
    expect(cycle.code).not.toBe(0);
    expect(cycle.stderr).toContain(`${a!.runId} cannot supersede ${b!.runId}`);
    expect(cycle.stderr).toContain(`${b!.runId} → ${a!.runId} → ${b!.runId}`);
    expect(cycle.stderr).not.toMatch(/\n\s+at /);
    const again = await runCli(
      ['supersede', '2025_01_02_repro', a!.runId, '--by', b!.runId, '--reason', 'second look'],
      { cwd: vaultDir },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`replaces the earlier record: superseded by ${b!.runId} (rerun with fix)`);
    expect(
      (await readSupersessions(path.join(vaultDir, 'specimens', '2025_01_02_repro')))[a!.runId],
    ).toMatchObject({
      reason: 'second look',
    });
    expect(await readManifestFile(path.join(a!.path, 'manifest.msgpack'))).toMatchObject({
      status: 'succeeded',
    });
    expect(Vault).toBeDefined();
    expect(REPO_ROOT).toBeTruthy();
  });
});
