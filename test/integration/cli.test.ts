// The `specimen` CLI end to end: a demo vault built by `specimen demo --no-serve`, then every command
// through the built CLI as a child process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEED_QUERIES } from '../../src/demo/queries.js';
import { CLI, REPO_ROOT, runCli, tempDir } from '../support/helpers.js';

let vault: string;
type Row = Record<string, unknown>;

async function json(args: string[]): Promise<Row[]> {
  const r = await runCli([...args, '--format', 'json', '--vault', vault]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

beforeAll(async () => {
  vault = path.join(tempDir('sv-cli-'), 'demo-vault');
  // The demo trains two grokking models for real before it returns (side by side, ~20 s of CPU each); the
  // rest of the sweep trains only as live runs once serving. Room for a loaded 2-core machine.
  const r = await runCli(['demo', vault, '--no-serve'], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('identical');
}, 310_000);

describe('specimen demo', () => {
  it('recorded sealed runs of every example specimen and indexed them', async () => {
    const rows = await json([
      'query',
      "SELECT specimen_id, count(*) AS runs, bool_and(status = 'succeeded') AS ok FROM runs GROUP BY ALL ORDER BY 1",
    ]);
    expect(rows).toEqual([
      { specimen_id: '2025_01_15_grokking_modular_addition', runs: 2, ok: true },
      { specimen_id: '2025_02_03_gpt2_layer_probes', runs: 1, ok: true },
      { specimen_id: '2025_03_10_gpt2_sae_width_sweep', runs: 2, ok: true },
      { specimen_id: 'example_2024_12_19_synthetic_demo', runs: 2, ok: true },
    ]);
    const verdict = await json(['query', 'SELECT reproduce_verdict FROM runs WHERE reproduces IS NOT NULL']);
    expect(verdict).toEqual([{ reproduce_verdict: 'identical' }]);
  });

  it('ends by serving the web UI on loopback until interrupted', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', vault, '--vault', vault], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`demo exited ${code} before serving:\n${out}`)));
    });
    expect(url).toMatch(/^http:\/\/(localhost|127\.0\.0\.1):\d+\//);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="app">');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 120_000);

  it('is idempotent: a second demo reuses the vault', async () => {
    const r = await runCli(['demo', vault, '--no-serve'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept the existing runs');
    const rows = await json(['query', 'SELECT count(*) AS n FROM runs']);
    expect(rows[0]?.n).toBe(7);
  }, 130_000);
});

describe('seed queries from the README', () => {
  it.each(SEED_QUERIES.map((q) => [q.title, q.sql]))('%s', async (_title, sql) => {
    const rows = await json(['query', sql]);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('answers them correctly', async () => {
    const byTag = await json([
      'query',
      "SELECT specimen_id FROM catalog WHERE array_contains(tags, 'gpt2') ORDER BY 1",
    ]);
    expect(byTag.map((r) => r.specimen_id)).toEqual([
      '2025_02_03_gpt2_layer_probes',
      '2025_03_10_gpt2_sae_width_sweep',
    ]);
    const byDomain = await json([
      'query',
      "SELECT count(*) AS n FROM catalog WHERE domain = 'interpretability'",
    ]);
    expect(byDomain[0]?.n).toBe(3);
    // The Python implementation's documented query, exactly as written.
    const documented = await json([
      'query',
      'SELECT step, loss, accuracy FROM exp_example_2024_12_19_synthetic_demo WHERE step >= 50',
    ]);
    expect(documented).toHaveLength(100); // 50 steps × 2 identical runs
    expect(documented.every((r) => (r.step as number) >= 50)).toBe(true);
    const sae = await json(['query', SEED_QUERIES.at(-1)!.sql]);
    expect(sae.map((r) => r.width)).toEqual([4096, 16384]);
    expect(sae[1]!.final_mse as number).toBeLessThan(sae[0]!.final_mse as number);
    const grok = await json(['query', SEED_QUERIES.find((q) => q.title.startsWith('Comparing seeds'))!.sql]);
    // The real sweep before serving: p = 31, seeds 1 and 2; both grok within the 2,500 steps.
    expect(grok.length).toBe(2);
    expect(grok.every((r) => r.prime === 31 && (r.first_step_above_95 as number) > 1000)).toBe(true);
  });

  it('records a turn row per grokking run and turn metric; found turns lie after memorisation', async () => {
    const turns = await json([
      'query',
      "SELECT t.run_id, t.metric, t.step, CAST(json_extract(r.summary, '$.train_solved_at') AS INTEGER) AS train_at " +
        "FROM turns t JOIN runs r USING (specimen_id, run_id) WHERE t.specimen_id = '2025_01_15_grokking_modular_addition' ORDER BY 1, 2",
    ]);
    expect(turns).toHaveLength(4); // 2 runs × test_loss, test_acc
    // Test accuracy turns on both runs (seeds 1 and 2, p = 31); this MLP's test loss falls steadily in log
    // space from its memorisation peak on, with no transition to find.
    const found = turns.filter((t) => t.step !== null);
    expect(found.map((t) => t.metric)).toEqual(['test_acc', 'test_acc']);
    for (const t of found) expect(t.step as number).toBeGreaterThan(t.train_at as number);
  });
});

describe('specimen query', () => {
  it('prints csv, and writes parquet that DuckDB reads back', async () => {
    const csv = await runCli([
      'query',
      'SELECT specimen_id, tags FROM catalog ORDER BY 1 LIMIT 2',
      '--format',
      'csv',
      '--vault',
      vault,
    ]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('specimen_id,tags');
    expect(csv.stdout.split('\n')[1]).toBe(
      '2025_01_15_grokking_modular_addition,"[""grokking"",""p31"",""p37"",""sweep""]"',
    );
    const out = path.join(vault, 'loss.parquet');
    const pq = await runCli([
      'query',
      "SELECT * FROM metrics WHERE metric = 'loss'",
      '--format',
      'parquet',
      '--out',
      out,
      '--vault',
      vault,
    ]);
    expect(pq.code, pq.stderr).toBe(0);
    const [back] = await json(['query', `SELECT count(*) AS n FROM read_parquet('${out}')`]);
    const [expected] = await json(['query', "SELECT count(*) AS n FROM metrics WHERE metric = 'loss'"]);
    expect(back?.n).toBe(expected?.n);
    expect(back?.n).toBeGreaterThan(0);
    fs.rmSync(out);
    // The read-only query sandbox refuses files outside the vault.
    const outside = await runCli(['query', "SELECT * FROM read_csv('/etc/passwd')", '--vault', vault]);
    expect(outside.code).toBe(2);
  });

  it('reports SQL errors with DuckDB’s message and position, exit 2, no stack trace', async () => {
    const r = await runCli(['query', 'SELECT specimen_id FROM catalg', '--vault', vault]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Catalog Error: Table with name catalg does not exist/);
    expect(r.stderr).toMatch(/line 1, column \d+/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const write = await runCli(['query', "COPY catalog TO '/tmp/sv-should-not-exist.csv'", '--vault', vault]);
    expect(write.code).toBe(2);
    expect(fs.existsSync('/tmp/sv-should-not-exist.csv')).toBe(false);
  });
});

describe('specimen ls and show', () => {
  it('filters by domain, method, tag and status', async () => {
    const all = JSON.parse((await runCli(['ls', '--json', '--vault', vault])).stdout) as Row[];
    expect(all).toHaveLength(4);
    const gpt2 = JSON.parse(
      (await runCli(['ls', '--tag', 'gpt2', '--method', 'sae_analysis', '--json', '--vault', vault])).stdout,
    ) as Row[];
    expect(gpt2.map((r) => r.specimen_id)).toEqual(['2025_03_10_gpt2_sae_width_sweep']);
    const training = JSON.parse(
      (await runCli(['--vault', vault, 'ls', '--domain', 'training', '--json'])).stdout,
    ) as Row[];
    expect(training.map((r) => r.specimen_id)).toEqual(['2025_01_15_grokking_modular_addition']);
    const text = await runCli(['ls', '--status', 'succeeded', '--vault', vault]);
    expect(text.stdout).toContain('4 specimens');
    expect(text.stdout).not.toMatch(/\u001b\[/);
  });

  it('shows manifest, runs, metric summaries, tensors and field notes', async () => {
    const r = await runCli(['show', '2025_03_10_gpt2_sae_width_sweep', '--json', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.manifest.tags).toEqual(['gpt2', 'sae', 'sweep']);
    expect(s.runs).toHaveLength(2);
    const mse = s.run.metrics.find((m: { column: string }) => m.column === 'mse');
    expect(mse.count).toBe(201);
    expect(mse.min).toBeLessThanOrEqual(mse.last);
    expect(s.run.tensors).toEqual([
      expect.objectContaining({ name: 'decoder_norms', shape: [16384], dtype: 'float32' }),
    ]);
    expect(s.field_notes).toContain('## Purpose');
    const text = await runCli(['show', '2025_03_10_gpt2_sae_width_sweep', '--vault', vault]);
    expect(text.stdout).toMatch(/mse\s+│ 201/);
    expect(text.stdout).toContain('decoder_norms');
  });

  it('names the closest specimens for an unknown ID', async () => {
    const r = await runCli(['show', '2025_03_10_gpt2_sae_widht_sweep', '--vault', vault]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('did you mean "2025_03_10_gpt2_sae_width_sweep"');
  });
});

describe('CLI conventions', () => {
  const commands = [
    'init',
    'new',
    'run',
    'reproduce',
    'supersede',
    'diff',
    'index',
    'query',
    'ls',
    'show',
    'note',
    'set',
    'conclude',
    'verify',
    'migrate',
    'demo',
    'serve',
    'log',
    'report',
  ];

  it.each(commands)('%s --help', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: specimen ${cmd}`);
    expect(r.stdout).toContain('--vault');
  });

  it.each([
    ['new', ['new', '2025_01_02_x', '--domain', 'training'], '--method <method>'],
    ['supersede', ['supersede', 'example_2024_12_19_synthetic_demo', 'strata'], '--by <run>'],
    ['report', ['report', 'example_2024_12_19_synthetic_demo'], '--out <file>'],
  ])('%s without a required option exits 2, naming the option', async (_cmd, args, option) => {
    const r = await runCli([...args, '--vault', vault]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: required option '${option}' not specified`);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for an unknown option or a missing argument, and 1 when no command is given', async () => {
    const unknown = await runCli(['ls', '--bogus', '--vault', vault]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const missing = await runCli(['query', '--vault', vault]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'sql'");
    expect((await runCli([])).code).toBe(1);
  });

  it('marks required options as required in --help', async () => {
    const help = (await runCli(['new', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--domain <domain> taxonomy domain \([^)]*\) \(required\)/);
    expect(help).toContain('--method <method> taxonomy method allowed for the domain (required)');
    expect(help).toContain('--tags <a,b> comma-separated tags --model');
    const supersede = (await runCli(['supersede', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(supersede).toContain('--by <run> run that supersedes it (required)');
  });

  it('never colours output with NO_COLOR or off a terminal', async () => {
    const r = await runCli(['show', 'example_2024_12_19_synthetic_demo', '--vault', vault], {
      env: { NO_COLOR: '1', FORCE_COLOR: '1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('indexes incrementally and reports what it skipped', async () => {
    const r = await runCli(['index', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/indexed 0 specimen\(s\) \(4 unchanged/);
    const full = await runCli(['index', '--full', '--vault', vault]);
    expect(full.stdout).toMatch(/indexed 4 specimen\(s\)/);
  });
});

describe('README', () => {
  it('shows every seed query that the tests run', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const q of SEED_QUERIES) expect(readme).toContain(`specimen query "${q.sql}"`);
    expect(readme.split('\n').slice(0, 14).join('\n')).toMatch(/npm ci && npm start[\s\S]*npm test/);
  });
});
