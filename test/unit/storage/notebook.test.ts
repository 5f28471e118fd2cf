// The lab notebook in storage and the catalog: patches validated and written atomically, the planned →
// active step taken by whatever starts a run, older manifests (the reference vault, nil notebook fields)
// still read, and the catalog following edits through the delta — or rebuilding a catalog of the
// previous schema (without the notebook columns).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexVault, VaultQuery } from '../../../src/catalog/index.js';
import { openMemory, quoteLiteral } from '../../../src/duckdb/node-api.js';
import { isVaultError } from '../../../src/errors.js';
import { effectiveSpecimenStatus, normalizeSpecimenManifest } from '../../../src/format/manifest.js';
import { encodeManifest, readManifestFile } from '../../../src/format/msgpack.js';
import {
  activatePlanned,
  appendFieldNote,
  parseNotebookPatch,
  readFieldNotes,
  updateNotebook,
  writeFieldNotes,
} from '../../../src/storage/notebook.js';
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';
import { Vault } from '../../../src/storage/vault.js';
import { copyTree, REFERENCE_VAULT, tempDir } from '../../support/helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

async function freshVault(): Promise<Vault> {
  const dir = tempDir('sv-notebook-unit-');
  made.push(dir);
  return Vault.init(dir);
}

async function planned(vault: Vault, id = '2026_01_05_probe') {
  await vault.createSpecimen({
    specimenId: id,
    domain: 'interpretability',
    method: 'probe_training',
    status: 'planned',
    hypothesis: 'layer 6 encodes syntax',
    expectedResults: 'accuracy > 0.9',
  });
  return id;
}

const manifestOf = (vault: Vault, id: string) =>
  readManifestFile(path.join(vault.specimenDir(id), 'manifest.msgpack'));

async function usageMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(isVaultError(err, 'UsageError'), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('updateNotebook', () => {
  it('sets, clears and checks the notebook fields, tags and status', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    await updateNotebook(vault, id, { conclusion: 'holds', status: 'concluded', tags: ['probe', 'gpt2'] });
    expect(await manifestOf(vault, id)).toMatchObject({
      status: 'concluded',
      conclusion: 'holds',
      hypothesis: 'layer 6 encodes syntax',
      tags: ['probe', 'gpt2'],
    });
    await updateNotebook(vault, id, { hypothesis: null, expected_results: '  ' });
    const m = await manifestOf(vault, id);
    expect('hypothesis' in m || 'expected_results' in m).toBe(false);
    expect(await usageMessage(updateNotebook(vault, id, { conclusion: '', status: 'concluded' }))).toContain(
      'write a conclusion',
    );
    // Nothing was written by the refused update.
    expect((await manifestOf(vault, id)).conclusion).toBe('holds');
    expect(fs.readdirSync(vault.specimenDir(id)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('refuses what is not a patch, naming the key', () => {
    expect(() => parseNotebookPatch({ colour: 'red' })).toThrow(/unknown field "colour"/);
    expect(() => parseNotebookPatch({ tags: ['-dash'] })).toThrow(/"-dash" is not a tag/);
    expect(() => parseNotebookPatch({ tags: ['x'.repeat(65)] })).toThrow(/is not a tag/);
    expect(() => parseNotebookPatch({ status: 'done' })).toThrow(/status must be one of/);
    expect(() => parseNotebookPatch({ conclusion: ['a'] })).toThrow(/conclusion must be a string/);
    expect(() => parseNotebookPatch({ description: 'a\u0000' })).toThrow(/NUL/);
    expect(parseNotebookPatch({ tags: ['gpt2', 'lr:1e-3', 'α/β'], status: 'archived' })).toEqual({
      tags: ['gpt2', 'lr:1e-3', 'α/β'],
      status: 'archived',
    });
  });
});

describe('planned → active', () => {
  it('happens when the library starts the first run, and planned is refused afterwards', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    expect(effectiveSpecimenStatus('planned', 0)).toBe('planned');
    const s = await SpecimenStorage.open(id, { vault });
    await s.startRun({ config: { lr: 0.1 } });
    await s.writeMetrics({ step: [0, 1], loss: [1, 0.5] });
    await s.finish();
    const m = await manifestOf(vault, id);
    expect(m.status).toBe('active');
    expect(Date.parse(String(m.activated))).toBeGreaterThan(Date.now() - 600_000);
    expect(await usageMessage(updateNotebook(vault, id, { status: 'planned' }))).toContain(
      'cannot be planned',
    );
    // Only planned specimens change.
    expect(await activatePlanned(vault.specimenDir(id))).toBe(false);
  });

  it('is shown by the catalog for runs written by a tool that left the manifest planned', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    await indexVault(vault.root);
    const dir = path.join(vault.specimenDir(id), 'runs', '20260105_120000');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'manifest.msgpack'),
      encodeManifest({
        run_id: '20260105_120000',
        run_timestamp: '2026-01-05T12:00:00Z',
        started: '2026-01-05T12:00:00Z',
        ended: '2026-01-05T12:00:01Z',
        status: 'succeeded',
        seeds: {},
        config: {},
        summary: {},
        artifacts: {},
      }),
    );
    expect((await manifestOf(vault, id)).status).toBe('planned');
    await indexVault(vault.root);
    const q = await VaultQuery.open(vault.root);
    try {
      expect(await q.rows('SELECT status, run_count FROM catalog')).toEqual([
        { status: 'active', run_count: 1 },
      ]);
    } finally {
      q.close();
    }
  });
});

describe('field notes', () => {
  it('appends dated entries and replaces the notes atomically', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    const heading = await appendFieldNote(vault, id, 'first', new Date('2026-01-05T09:07:30Z'));
    expect(heading).toBe('## 2026-01-05 09:07 UTC');
    expect(await readFieldNotes(vault, id)).toBe('## 2026-01-05 09:07 UTC\n\nfirst\n');
    await appendFieldNote(vault, id, 'second', new Date('2026-01-05T10:00:00Z'));
    expect(await readFieldNotes(vault, id)).toBe(
      '## 2026-01-05 09:07 UTC\n\nfirst\n\n## 2026-01-05 10:00 UTC\n\nsecond\n',
    );
    await writeFieldNotes(vault, id, '# Replaced\n');
    expect(await readFieldNotes(vault, id)).toBe('# Replaced\n');
    expect(await usageMessage(appendFieldNote(vault, id, ' \n'))).toContain('the entry is empty');
    expect(await usageMessage(writeFieldNotes(vault, id, 'x'.repeat(1_000_001)))).toContain('exceed');
    expect(fs.readdirSync(vault.specimenDir(id)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('concurrent writers', () => {
  it('lose no entry and no patch when they run at once', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    const at = new Date('2026-01-05T09:00:00Z');
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => appendFieldNote(vault, id, `entry ${i}`, at)),
      ...Array.from({ length: 5 }, (_, i) => updateNotebook(vault, id, { tags: [`t${i}`] })),
    ]);
    const notes = await readFieldNotes(vault, id);
    for (let i = 0; i < 20; i++) expect(notes).toContain(`\n\nentry ${i}\n`);
    expect(notes.match(/^## 2026-01-05 09:00 UTC$/gm)).toHaveLength(20);
    expect((await manifestOf(vault, id)).tags).toHaveLength(1);
    expect(fs.existsSync(path.join(vault.specimenDir(id), '.notebook.lock'))).toBe(false);
  });

  it('take over a lock left by a writer that died', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    const lock = path.join(vault.specimenDir(id), '.notebook.lock');
    fs.writeFileSync(lock, '999999\n');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    await appendFieldNote(vault, id, 'after a crash');
    expect(await readFieldNotes(vault, id)).toContain('after a crash');
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe('older manifests', () => {
  it('read as before: the reference vault (no notebook fields) and nil fields written by Python', async () => {
    const dir = tempDir('sv-notebook-ref-');
    made.push(dir);
    copyTree(REFERENCE_VAULT, dir);
    const vault = await Vault.open(dir);
    const demo = await vault.readSpecimenManifest('example_2024_12_19_synthetic_demo');
    expect(demo.status).toBe('active');
    expect(demo.hypothesis).toBeUndefined();
    const vn = await vault.readSpecimenManifest('2025_12_22_vn_comprehensive_experiments');
    expect(vn.specimen_id).toBe('2025_12_22_vn_comprehensive_experiments');
    // msgpack nil, as `msgpack.packb({"hypothesis": None})` writes it, and a field longer than edits accept.
    const m = normalizeSpecimenManifest(
      { ...(demo as object), hypothesis: null, conclusion: 'x'.repeat(30_000) } as never,
      'example_2024_12_19_synthetic_demo',
    );
    expect(m.hypothesis).toBeNull();
    await indexVault(dir);
    const q = await VaultQuery.open(dir);
    try {
      expect(
        await q.rows('SELECT specimen_id, status, hypothesis, conclusion FROM catalog ORDER BY specimen_id'),
      ).toEqual([
        {
          specimen_id: '2025_12_22_vn_comprehensive_experiments',
          status: 'active',
          hypothesis: null,
          conclusion: null,
        },
        {
          specimen_id: 'example_2024_12_19_synthetic_demo',
          status: 'active',
          hypothesis: null,
          conclusion: null,
        },
      ]);
    } finally {
      q.close();
    }
  });
});

describe('catalog', () => {
  it('follows notebook edits through the delta, without rewriting the catalog file', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    await vault.createSpecimen({ specimenId: '2026_01_06_other', domain: 'training', method: 'fine_tuning' });
    await indexVault(vault.root);
    const file = path.join(vault.root, 'vault.duckdb');
    const before = fs.readFileSync(file);
    await updateNotebook(vault, id, { hypothesis: 'revised', tags: ['x'] });
    const report = await indexVault(vault.root);
    expect(report.full).toBe(false);
    expect(report.specimens).toMatchObject({ indexed: 1, unchanged: 1 });
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const q = await VaultQuery.open(vault.root);
    try {
      expect(
        await q.rows(
          `SELECT hypothesis, expected_results, status, tags FROM catalog WHERE specimen_id = '${id}'`,
        ),
      ).toEqual([
        { hypothesis: 'revised', expected_results: 'accuracy > 0.9', status: 'planned', tags: ['x'] },
      ]);
    } finally {
      q.close();
    }
  });

  it('rebuilds a catalog of the previous schema, which had no notebook columns', async () => {
    const vault = await freshVault();
    const id = await planned(vault);
    await indexVault(vault.root);
    const db = await openMemory();
    await db.connection.run(`ATTACH ${quoteLiteral(path.join(vault.root, 'vault.duckdb'))} AS v`);
    for (const c of ['hypothesis', 'expected_results', 'conclusion'])
      await db.connection.run(`ALTER TABLE v.sv_base.catalog DROP COLUMN ${c}`);
    await db.connection.run(`UPDATE v.catalog_info SET "value" = '5' WHERE "key" = 'schema_version'`);
    db.close();
    const report = await indexVault(vault.root);
    expect(report.full).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/schema version 5/);
    const q = await VaultQuery.open(vault.root);
    try {
      expect(await q.rows(`SELECT hypothesis FROM catalog WHERE specimen_id = '${id}'`)).toEqual([
        { hypothesis: 'layer 6 encodes syntax' },
      ]);
    } finally {
      q.close();
    }
  });
});
