// Durability modes (docs/format.md, "Durability"): batch-mode sweeps in real child processes killed with
// SIGKILL, a simulated OS crash (the journal entry given another boot ID, a sealed file truncated) settled by
// the built CLI's `index` and `verify`, the background flush and the flush at exit, and `run` mode, which
// writes no journal at all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_DIR } from '../../src/format/layout.js';
import { currentBootId, type JournalEntry } from '../../src/storage/durability.js';
import { listRunInfos } from '../../src/storage/runs.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { REPO_ROOT, runCli, tempDir } from '../support/helpers.js';

const SPEC = '2025_01_01_sweep';
const CHILD = path.join(REPO_ROOT, 'test/support/children/batch-sweep.ts');
const dirs: string[] = [];

async function newVault(): Promise<string> {
  const vault = tempDir('sv-durable-');
  dirs.push(vault);
  expect((await runCli(['init', vault])).code).toBe(0);
  expect(
    (await runCli(['new', SPEC, '--domain', 'training', '--method', 'fine_tuning', '--vault', vault])).code,
  ).toBe(0);
  return vault;
}

function journal(vault: string): string[] {
  try {
    return fs.readdirSync(path.join(vault, JOURNAL_DIR)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
}

/** Runs the batch-sweep child; with `kill`, SIGKILLs it once it has printed its partial run. */
function sweepChild(
  vault: string,
  count: number,
  end: 'kill' | 'exit' | 'return',
): Promise<{ sealed: string[]; partial: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, vault, SPEC, String(count), end], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (end === 'kill' && /PARTIAL \S+\n/.test(out)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const sealed = [...out.matchAll(/SEALED (\S+)/g)].map((m) => m[1]!);
      const partial = /PARTIAL (\S+)/.exec(out)?.[1];
      if (!partial) reject(new Error(`batch-sweep child ended early (${code ?? signal}): ${err}`));
      else resolve({ sealed, partial, signal, code });
    });
  });
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('batch mode, process crash', () => {
  let vault: string;
  let child: Awaited<ReturnType<typeof sweepChild>>;
  beforeAll(async () => {
    vault = await newVault();
    child = await sweepChild(vault, 6, 'kill');
  }, 120_000);

  it('leaves a journal entry naming the writer, its boot and the specimen', () => {
    expect(child.signal).toBe('SIGKILL');
    expect(child.sealed).toHaveLength(6);
    const entries = journal(vault);
    expect(entries).toHaveLength(1);
    const entry = JSON.parse(
      fs.readFileSync(path.join(vault, JOURNAL_DIR, entries[0]!), 'utf8'),
    ) as JournalEntry;
    expect(entry.boot_id).toBe(currentBootId());
    expect(entry.specimens).toEqual([SPEC]);
    expect(entry.pid).toBeGreaterThan(0);
  });

  it('verify settles the entry: every sealed run verifies, the partial run is incomplete', async () => {
    const r = await runCli(['verify', '--json', '--vault', vault]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { runs: { runId: string; result: string }[] };
    const byRun = Object.fromEntries(report.runs.map((x) => [x.runId, x.result]));
    for (const id of child.sealed) expect(byRun[id]).toBe('verified');
    expect(byRun[child.partial]).toBe('unsealed');
    expect(journal(vault)).toEqual([]);
    const infos = await listRunInfos(SPEC, path.join(vault, 'specimens', SPEC));
    expect(infos.find((i) => i.runId === child.partial)?.status).toBe('incomplete');
    expect(infos.filter((i) => i.status === 'succeeded').map((i) => i.runId)).toEqual(child.sealed);
  });
});

describe('batch mode, simulated OS crash', () => {
  let vault: string;
  let child: Awaited<ReturnType<typeof sweepChild>>;
  let damaged: string;
  beforeAll(async () => {
    vault = await newVault();
    child = await sweepChild(vault, 5, 'kill');
    // The OS "restarted": the entry's boot ID is another one, and one run's metrics never reached the disk.
    const [name] = journal(vault);
    const file = path.join(vault, JOURNAL_DIR, name!);
    const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as JournalEntry;
    fs.writeFileSync(file, JSON.stringify({ ...entry, boot_id: '00000000-0000-0000-0000-000000000000' }));
    damaged = child.sealed[2]!;
    const metrics = path.join(vault, 'specimens', SPEC, 'runs', damaged, 'metrics.parquet');
    fs.chmodSync(metrics, 0o644);
    fs.truncateSync(metrics, Math.floor(fs.statSync(metrics).size / 2));
  }, 120_000);

  it('index marks exactly that run damaged and keeps the others', async () => {
    const idx = await runCli(['index', '--vault', vault]);
    expect(idx.code).toBe(0);
    expect(idx.stderr).toContain(damaged);
    expect(journal(vault)).toEqual([]);
    const q = await runCli([
      'query',
      `SELECT run_id, status FROM runs WHERE specimen_id = '${SPEC}' ORDER BY run_id`,
      '--format',
      'json',
      '--vault',
      vault,
    ]);
    expect(q.code).toBe(0);
    const rows = JSON.parse(q.stdout) as { run_id: string; status: string }[];
    const status = Object.fromEntries(rows.map((r) => [r.run_id, r.status]));
    expect(status[damaged]).toBe('damaged');
    for (const id of child.sealed.filter((x) => x !== damaged)) expect(status[id]).toBe('succeeded');
    expect(status[child.partial]).toBe('incomplete');
    // The metrics views leave the damaged run out (its truncated file would fail every query).
    const m = await runCli([
      'query',
      'SELECT DISTINCT run_id FROM metrics ORDER BY run_id',
      '--format',
      'json',
      '--vault',
      vault,
    ]);
    expect(m.code).toBe(0);
    const inViews = (JSON.parse(m.stdout) as { run_id: string }[]).map((r) => r.run_id);
    expect(inViews).not.toContain(damaged);
    expect(inViews).toContain(child.sealed[0]);
  });

  it('verify reports that run damaged with what to do, the others verified', async () => {
    const r = await runCli(['verify', '--json', '--vault', vault]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      runs: { runId: string; result: string; damage?: { reason: string; what_to_do: string } }[];
    };
    const bad = report.runs.filter((x) => x.result === 'damaged');
    expect(bad.map((x) => x.runId)).toEqual([damaged]);
    expect(bad[0]!.damage!.reason).toContain('metrics.parquet');
    expect(bad[0]!.damage!.what_to_do).toMatch(/again/);
    for (const id of child.sealed.filter((x) => x !== damaged))
      expect(report.runs.find((x) => x.runId === id)?.result).toBe('verified');
    const text = await runCli(['verify', '--vault', vault]);
    expect(text.stdout).toContain(`DAMAGED ${SPEC}/${damaged}`);
    const show = await runCli(['show', SPEC, '--vault', vault]);
    expect(show.stdout).toContain(`damaged ${damaged}: changed since sealing: metrics.parquet`);
    const marks = JSON.parse(fs.readFileSync(path.join(vault, 'specimens', SPEC, 'damaged.json'), 'utf8'));
    expect(Object.keys(marks)).toEqual([damaged]);
    // The run is kept as found, not deleted.
    expect(fs.existsSync(path.join(vault, 'specimens', SPEC, 'runs', damaged, 'manifest.msgpack'))).toBe(
      true,
    );
  });
});

describe('the flush', () => {
  it('drops the journal entry within about a second of a batch, with the runs durable', async () => {
    const vault = await newVault();
    const storage = await SpecimenStorage.open(SPEC, { vault, durability: 'batch' });
    await storage.startRun();
    await storage.writeMetrics({ step: [0, 1], loss: [1, 0.5] });
    await storage.finish();
    expect(journal(vault)).toHaveLength(1);
    // Polled with a generous limit: the flush itself is due FLUSH_DELAY_MS after the seal.
    for (let i = 0; i < 100 && journal(vault).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(journal(vault)).toEqual([]);
  });

  it('names every specimen of a batch in one entry that keeps the batch start', async () => {
    const vault = await newVault();
    const other = '2025_01_02_other';
    expect(
      (await runCli(['new', other, '--domain', 'training', '--method', 'fine_tuning', '--vault', vault]))
        .code,
    ).toBe(0);
    const read = (): JournalEntry => {
      const [name] = journal(vault);
      return JSON.parse(fs.readFileSync(path.join(vault, JOURNAL_DIR, name!), 'utf8')) as JournalEntry;
    };
    const seal = async (id: string): Promise<void> => {
      const s = await SpecimenStorage.open(id, { vault, durability: 'batch' });
      await s.startRun();
      await s.writeMetrics({ step: [0], loss: [1] });
      await s.finish();
    };
    await seal(SPEC);
    const first = read();
    await seal(other);
    expect(journal(vault)).toHaveLength(1);
    const second = read();
    expect(second.specimens).toEqual([SPEC, other]);
    // Recovery checks runs sealed at or after `started`: the first specimen's run must still count.
    expect(second.started).toBe(first.started);
  });

  it.each(['exit', 'return'] as const)(
    'flushes at %s: no journal entry is left',
    async (end) => {
      const vault = await newVault();
      const child = await sweepChild(vault, 3, end);
      expect(child.code).toBe(0);
      expect(child.sealed).toHaveLength(3);
      expect(journal(vault)).toEqual([]);
      const infos = await listRunInfos(SPEC, path.join(vault, 'specimens', SPEC));
      expect(infos.filter((i) => i.status === 'succeeded')).toHaveLength(3);
    },
    60_000,
  );
});

describe('run mode and settings', () => {
  it('run mode seals durably with no journal', async () => {
    const vault = await newVault();
    const storage = await SpecimenStorage.open(SPEC, { vault, durability: 'run' });
    expect(storage.durability).toBe('run');
    await storage.startRun();
    await storage.writeMetrics({ step: [0], loss: [1] });
    await storage.finish();
    expect(fs.existsSync(path.join(vault, JOURNAL_DIR))).toBe(false);
  });

  it('the vault setting is validated and is the default of writers', async () => {
    const vault = await newVault();
    const config = path.join(vault, 'specimen-vault.json');
    const json = JSON.parse(fs.readFileSync(config, 'utf8'));
    fs.writeFileSync(config, JSON.stringify({ ...json, durability: 'sometimes' }));
    await expect(Vault.open(vault)).rejects.toThrow(/"durability" must be "run" .* got "sometimes"/);
    fs.writeFileSync(config, JSON.stringify({ ...json, durability: 'run' }));
    expect((await SpecimenStorage.open(SPEC, { vault })).durability).toBe('run');
    fs.writeFileSync(config, JSON.stringify(json));
    expect((await SpecimenStorage.open(SPEC, { vault })).durability).toBe('batch');
  });

  it('--durability is checked by the commands that seal', async () => {
    const vault = await newVault();
    const r = await runCli(['seal', SPEC, 'nope', '--durability', 'sometimes', '--vault', vault]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--durability must be "run"');
  });
});
