// The lab notebook through the built CLI as child processes: a planned specimen (hypothesis, expected
// results) listed apart, its first run making it active, `specimen conclude`, `specimen set`, and dated
// field-note entries from an argument, a file and standard input.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifestFile } from '../../src/format/msgpack.js';
import { CLI, runCli, tempDir } from '../support/helpers.js';

let vault: string;
const PLANNED = '2026_01_05_layer_probe';
const OTHER = '2026_01_04_baseline';

async function ok(args: string[]): Promise<string> {
  const r = await runCli(['--vault', vault, ...args]);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  return JSON.parse(await ok(['query', sql, '--format', 'json'])) as T[];
}

function manifest(id: string) {
  return readManifestFile(path.join(vault, 'specimens', id, 'manifest.msgpack'));
}

/** Runs the CLI with `input` on stdin. */
function withStdin(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args, '--vault', vault],
      { env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

beforeAll(async () => {
  vault = tempDir('sv-notebook-');
  expect((await runCli(['init', vault])).code).toBe(0);
  await ok(['new', OTHER, '--domain', 'training', '--method', 'fine_tuning']);
}, 60_000);

describe('planned → run → concluded', () => {
  it('records a planned experiment with its hypothesis and expected results', async () => {
    const out = await ok([
      'new',
      PLANNED,
      '--domain',
      'interpretability',
      '--method',
      'probe_training',
      '--status',
      'planned',
      '--hypothesis',
      'layer 6 encodes syntax',
      '--expected',
      'probe accuracy above 0.9',
    ]);
    expect(out).toContain('planned');
    const m = await manifest(PLANNED);
    expect(m).toMatchObject({
      status: 'planned',
      hypothesis: 'layer 6 encodes syntax',
      expected_results: 'probe accuracy above 0.9',
    });
    const rows = await query(
      `SELECT specimen_id, status, hypothesis, expected_results, conclusion FROM catalog ORDER BY 1`,
    );
    expect(rows).toEqual([
      { specimen_id: OTHER, status: 'active', hypothesis: null, expected_results: null, conclusion: null },
      {
        specimen_id: PLANNED,
        status: 'planned',
        hypothesis: 'layer 6 encodes syntax',
        expected_results: 'probe accuracy above 0.9',
        conclusion: null,
      },
    ]);
  });

  it('lists planned specimens apart, and filters by status', async () => {
    const out = await ok(['ls']);
    const plannedAt = out.indexOf('Planned (1)');
    expect(plannedAt).toBeGreaterThan(0);
    // The active specimen is in the main table, above the planned section; the planned one only below.
    expect(out.indexOf(OTHER)).toBeLessThan(plannedAt);
    expect(out.indexOf(PLANNED)).toBeGreaterThan(plannedAt);
    expect(out.slice(plannedAt)).toContain('layer 6 encodes syntax');
    const planned = JSON.parse(await ok(['ls', '--status', 'planned', '--json'])) as {
      specimen_id: string;
    }[];
    expect(planned.map((r) => r.specimen_id)).toEqual([PLANNED]);
  });

  it('refuses to conclude without a conclusion', async () => {
    const r = await runCli(['conclude', PLANNED, '   ', '--vault', vault]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('write a conclusion');
    expect(r.stderr).not.toContain('    at ');
  });

  it('becomes active with its first run', async () => {
    await ok(['run', PLANNED, '--', process.execPath, '-e', 'console.log("probe done")']);
    const m = await manifest(PLANNED);
    expect(m.status).toBe('active');
    expect(typeof m.activated).toBe('string');
    await ok(['index']);
    const rows = await query<{ status: string; run_count: number }>(
      `SELECT status, run_count FROM catalog WHERE specimen_id = '${PLANNED}'`,
    );
    expect(rows).toEqual([{ status: 'active', run_count: 1 }]);
    const r = await runCli(['set', PLANNED, 'status=planned', '--vault', vault]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has 1 run and cannot be planned');
    const listed = await ok(['ls']);
    expect(listed).not.toContain('Planned (');
  }, 120_000);

  it('is concluded with `specimen conclude`, and the catalog follows at once', async () => {
    await ok(['conclude', PLANNED, 'Layer 6 probes reach 0.94: the hypothesis holds.']);
    const m = await manifest(PLANNED);
    expect(m.status).toBe('concluded');
    expect(m.conclusion).toBe('Layer 6 probes reach 0.94: the hypothesis holds.');
    const rows = await query(`SELECT status, conclusion FROM catalog WHERE specimen_id = '${PLANNED}'`);
    expect(rows).toEqual([
      { status: 'concluded', conclusion: 'Layer 6 probes reach 0.94: the hypothesis holds.' },
    ]);
    const shown = await ok(['show', PLANNED]);
    expect(shown).toMatch(/status\s+concluded/);
    expect(shown).toContain('Conclusion');
    expect(shown).toContain('Layer 6 probes reach 0.94');
    expect(shown).toContain('layer 6 encodes syntax');
  });

  it('edits fields with `specimen set` and refuses bad values with a clear message', async () => {
    await ok(['set', OTHER, 'hypothesis=warmup matters', 'tags=baseline,gpt2', 'expected=lower loss']);
    const m = await manifest(OTHER);
    expect(m).toMatchObject({
      hypothesis: 'warmup matters',
      expected_results: 'lower loss',
      tags: ['baseline', 'gpt2'],
    });
    await ok(['set', OTHER, 'hypothesis=']);
    expect('hypothesis' in (await manifest(OTHER))).toBe(false);
    for (const [arg, message] of [
      ['tags=bad tag', '"bad tag" is not a tag'],
      ['status=finished', 'status must be one of planned, active, concluded, archived, deprecated'],
      ['colour=red', 'unknown field "colour"'],
      ['nonsense', 'is not KEY=VALUE'],
    ] as const) {
      const r = await runCli(['set', OTHER, arg, '--vault', vault]);
      expect(r.code, arg).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const r = await runCli(['set', '2026_01_09_missing', 'hypothesis=x', '--vault', vault]);
    expect(r.code).toBe(3);
  });
});

describe('specimen note', () => {
  it('appends dated entries from an argument, a file and standard input', async () => {
    const notesFile = path.join(vault, 'specimens', OTHER, 'field_notes.md');
    const before = fs.readFileSync(notesFile, 'utf8');
    await ok(['note', OTHER, 'loss spiked at step 4000']);
    const entryFile = path.join(tempDir('sv-note-'), 'entry.md');
    fs.writeFileSync(entryFile, 'Second entry\n\n- with a list\n');
    await ok(['note', OTHER, '--file', entryFile]);
    const r = await withStdin(['note', OTHER], 'from standard input\n');
    expect(r.code, r.stderr).toBe(0);
    const after = fs.readFileSync(notesFile, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const added = after.slice(before.length);
    const headings = [...added.matchAll(/^## (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC$/gm)].map((m) => m[1]!);
    expect(headings).toHaveLength(3);
    for (const h of headings)
      expect(Math.abs(Date.parse(`${h.replace(' ', 'T')}:00Z`) - Date.now())).toBeLessThan(3_600_000);
    expect(added).toMatch(
      /UTC\n\nloss spiked at step 4000\n\n## .*UTC\n\nSecond entry\n\n- with a list\n\n## .*UTC\n\nfrom standard input\n$/,
    );
    // Atomic: no temporary file is left beside the notes.
    expect(fs.readdirSync(path.dirname(notesFile)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('is shown by `show` as Markdown when written in the older markup', async () => {
    const id = '2026_01_07_legacy_notes';
    await ok(['new', id, '--domain', 'training', '--method', 'fine_tuning']);
    const notesFile = path.join(vault, 'specimens', id, 'field_notes.md');
    fs.writeFileSync(
      notesFile,
      '# Legacy\n●SECTION|Legacy section\n●LOG|2025-12-22 20:17|run:20251222_201718\n',
    );
    const shown = await ok(['show', id]);
    const notes = shown.slice(shown.indexOf('Field notes'));
    expect(notes).toContain('## Legacy section');
    expect(notes).toContain('### Log 2025-12-22 20:17');
    expect(notes).toContain('- **run:** `20251222_201718`');
    expect(notes).not.toContain('●');
    const json = JSON.parse(await ok(['show', id, '--json'])) as {
      field_notes: string;
      field_notes_markdown: string;
    };
    expect(json.field_notes).toContain('●SECTION|Legacy section');
    expect(json.field_notes_markdown).toBe(
      '# Legacy\n\n## Legacy section\n\n### Log 2025-12-22 20:17\n\n- **run:** `20251222_201718`\n',
    );
    // The file itself is left as written.
    expect(fs.readFileSync(notesFile, 'utf8')).toContain('●SECTION|Legacy section');
  });

  it('refuses an empty entry and a missing file', async () => {
    const empty = await withStdin(['note', OTHER], '  \n');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the entry is empty');
    const missing = await runCli(['note', OTHER, '--file', '/nonexistent/entry.md', '--vault', vault]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read --file /nonexistent/entry.md');
  });
});
