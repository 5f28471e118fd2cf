import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import {
  normalizeRunManifest,
  normalizeSpecimenManifest,
  validateRunManifest,
  validateSpecimenManifest,
} from '../../../src/format/manifest.js';
import {
  decodeManifest,
  encodeManifest,
  type PlainObject,
  readManifestFile,
} from '../../../src/format/msgpack.js';
import { assertTaxonomy, DEFAULT_TAXONOMY, mergeTaxonomy } from '../../../src/format/taxonomy.js';
import { findVaultRoot, initVault, readVaultConfig } from '../../../src/format/vault-config.js';
import { REFERENCE_VAULT, runPython, tempDir } from '../../support/helpers.js';
import { pythonAvailable } from '../../support/python.js';

const SPECIMENS = path.join(REFERENCE_VAULT, 'specimens');

// Plain values msgpack-python reads back as the same dict. Whole-valued floats are written as integers
// (documented in docs/format.md), so -0 comes back as 0 and is left out here.
const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: false }).filter((d) => !Object.is(d, -0)),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)),
    fc.string(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('manifest encoding', () => {
  it('round-trips arbitrary plain data, unknown fields included (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(key, plainValue, { maxKeys: 6 }), (obj) => {
        const back = decodeManifest(encodeManifest(obj as PlainObject), 'mem');
        expect(back).toEqual(obj);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps unknown fields of a specimen manifest through validate + encode + decode (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          key.map((k) => `x_${k}`),
          plainValue,
          { maxKeys: 5 },
        ),
        (extra) => {
          const m = {
            specimen_id: '2025_01_02_a',
            created: '2025-01-02T00:00:00Z',
            taxonomy: { domain: 'training', method: 'fine_tuning' },
            status: 'active',
            tags: ['a'],
            ...extra,
          };
          const v = validateSpecimenManifest(decodeManifest(encodeManifest(m as PlainObject), 'mem'), {
            taxonomy: DEFAULT_TAXONOMY,
          });
          expect(v).toEqual(m);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses values Python could not read back as plain data', () => {
    expect(() => encodeManifest({ when: new Date() as never })).toThrow(/field "when" holds a Date/);
    expect(() => encodeManifest({ a: { b: new Map() as never } })).toThrow(/field "a.b" holds a Map/);
    const err = (() => {
      try {
        encodeManifest({ config: { f: (() => 1) as never } });
      } catch (e) {
        return e;
      }
    })();
    expect(isVaultError(err, 'ManifestError') && err.field).toBe('config.f');
  });

  it('names the file of a corrupt manifest', async () => {
    const file = path.join(SPECIMENS, '2025_01_02_corrupt_manifest', 'manifest.msgpack');
    await expect(readManifestFile(file)).rejects.toSatisfy(
      (err: unknown) => isVaultError(err, 'CorruptManifestError') && (err as Error).message.includes(file),
    );
  });
});

describe('manifest validation', () => {
  const good = {
    specimen_id: '2025_01_02_a',
    created: '2025-01-02T00:00:00Z',
    taxonomy: { domain: 'training', method: 'fine_tuning' },
    status: 'active',
    tags: [],
  };

  it('names field, value and what is allowed', () => {
    expect(() => validateSpecimenManifest({ ...good, status: 'alive' })).toThrow(
      /field "status" must be one of "planned", "active", "concluded", "archived", "deprecated", got "alive"/,
    );
    expect(() => validateSpecimenManifest({ ...good, tags: 'x' })).toThrow(
      /field "tags" must be array, got "x"/,
    );
    expect(() => validateSpecimenManifest({ ...good, created: 'yesterday' })).toThrow(
      /field "created" must be an ISO-8601/,
    );
  });

  it('checks the domain/method pair against the taxonomy and lists valid choices', () => {
    expect(() =>
      validateSpecimenManifest(
        { ...good, taxonomy: { domain: 'traning', method: 'fine_tuning' } },
        { taxonomy: DEFAULT_TAXONOMY },
      ),
    ).toThrow(
      /domain "traning" is not allowed; valid domains: interpretability, training, benchmarking, alignment/,
    );
    expect(() => assertTaxonomy(DEFAULT_TAXONOMY, 'training', 'sae_analysis')).toThrow(
      /valid methods for training: fine_tuning, ablation_study \(sae_analysis belongs to: interpretability\)/,
    );
  });

  it('accepts every documented pair and a config extension', () => {
    for (const [d, ms] of Object.entries(DEFAULT_TAXONOMY))
      for (const m of ms) assertTaxonomy(DEFAULT_TAXONOMY, d, m);
    const t = mergeTaxonomy(DEFAULT_TAXONOMY, { robotics: ['fine_tuning'], training: ['distillation'] });
    expect(() => assertTaxonomy(t, 'robotics', 'fine_tuning')).not.toThrow();
    expect(() => assertTaxonomy(t, 'training', 'distillation')).not.toThrow();
    expect(() => assertTaxonomy(DEFAULT_TAXONOMY, 'robotics', 'fine_tuning')).toThrow(/robotics/);
  });

  it('validates run manifests', () => {
    const run = {
      run_id: '20250102_000000',
      run_timestamp: '2025-01-02T00:00:00Z',
      started: '2025-01-02T00:00:00Z',
      ended: null,
      status: 'running',
      seeds: {},
      config: {},
      summary: {},
      artifacts: {},
    };
    expect(validateRunManifest(run)).toBe(run);
    expect(() => validateRunManifest({ ...run, status: 'done' })).toThrow(
      /field "status" must be one of "running"/,
    );
    expect(() => validateRunManifest({ ...run, artifacts: { m: { path: 'x' } } })).toThrow(
      /field "artifacts.m.format"/,
    );
  });
});

describe('reference vault manifests (written by the Python implementation)', () => {
  it('loads every specimen manifest that exists, keeping nested fields', async () => {
    const demo = await readManifestFile(
      path.join(SPECIMENS, 'example_2024_12_19_synthetic_demo', 'manifest.msgpack'),
    );
    const m = normalizeSpecimenManifest(demo, 'example_2024_12_19_synthetic_demo');
    expect(m.taxonomy).toEqual({ domain: 'interpretability', method: 'sae_analysis' });
    expect(m.tags).toEqual(['demo', 'example', 'synthetic']);
    expect((m.artifacts as Record<string, { shape?: number[] }>).activations?.shape).toEqual([100, 512]);
    const vn = normalizeSpecimenManifest(
      await readManifestFile(
        path.join(SPECIMENS, '2025_12_22_vn_comprehensive_experiments', 'manifest.msgpack'),
      ),
      '2025_12_22_vn_comprehensive_experiments',
    );
    expect(vn.tags).toContain('gemma-2-2b');
    expect(vn.model ?? null).toBeNull();
  });

  it('maps legacy run manifests onto the run fields without dropping any', async () => {
    const dir = path.join(SPECIMENS, '2025_12_22_vn_comprehensive_experiments');
    const files = [
      path.join(dir, 'strata', 'manifest.msgpack'),
      ...fs.readdirSync(path.join(dir, 'runs')).map((r) => path.join(dir, 'runs', r, 'manifest.msgpack')),
    ];
    expect(files).toHaveLength(3);
    for (const f of files) {
      const raw = await readManifestFile(f);
      const run = normalizeRunManifest(raw, path.basename(path.dirname(f)));
      expect(run.status).toBe('succeeded');
      expect(run.started).toBe((raw.timing as { start: string }).start);
      expect(run.ended).toBe((raw.timing as { end: string }).end);
      expect(run.config).toEqual(raw.configuration);
      expect((run.by_category as Record<string, { count: number }>).development?.count).toBe(20);
      for (const k of Object.keys(raw)) expect(run).toHaveProperty(k);
    }
  });
});

describe('vault root and config', () => {
  it('finds the nearest ancestor, honours --vault and SPECIMEN_VAULT, and explains a miss', async () => {
    const root = tempDir();
    await initVault(root);
    const deep = path.join(root, 'specimens', 'a', 'b');
    fs.mkdirSync(deep, { recursive: true });
    expect(findVaultRoot({ cwd: deep, env: {} })).toBe(root);
    expect(findVaultRoot({ cwd: '/', env: { SPECIMEN_VAULT: root } })).toBe(root);
    expect(findVaultRoot({ cwd: '/', explicit: REFERENCE_VAULT, env: {} })).toBe(REFERENCE_VAULT);
    expect(() => findVaultRoot({ cwd: '/', env: {} })).toThrow(
      /no vault found at or above \/.*specimen init/,
    );
  });

  it('extends the taxonomy from the config file and rejects a malformed one by field', async () => {
    const root = tempDir();
    fs.writeFileSync(
      path.join(root, 'specimen-vault.json'),
      JSON.stringify({ format_version: 1, taxonomy: { domains: { robotics: ['fine_tuning'] } } }),
    );
    const cfg = await readVaultConfig(root);
    expect(cfg.taxonomy.robotics).toEqual(['fine_tuning']);
    expect(cfg.taxonomy.training).toEqual(['fine_tuning', 'ablation_study']);
    fs.writeFileSync(
      path.join(root, 'specimen-vault.json'),
      JSON.stringify({ taxonomy: { domains: { Bad: [] } } }),
    );
    await expect(readVaultConfig(root)).rejects.toThrow(/field "taxonomy.domains.Bad"/);
  });
});

describe('Python reads what we write', () => {
  it.runIf(pythonAvailable())('msgpack.unpack yields the same dict', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'manifest.msgpack');
    const m = {
      specimen_id: '2025_01_02_x',
      tags: ['a', 'b'],
      nested: {
        big: 2n ** 62n,
        f: 0.1,
        neg: -3,
        ok: true,
        nil: null,
        bytes: 25_276_502_016,
        ms: -1_700_000_000_000,
      },
      list: [1, 'two', [3]],
    };
    fs.writeFileSync(file, encodeManifest(m as PlainObject));
    const out = await runPython(
      'import msgpack,sys,json\nd=msgpack.unpack(open(sys.argv[1],"rb"))\nprint(json.dumps({"d":d,"big":str(d["nested"]["big"]),"types":[type(d["nested"][k]).__name__ for k in ["big","f","bytes","ms"]]}))',
      [file],
    );
    const parsed = JSON.parse(out);
    expect(parsed.big).toBe(String(2n ** 62n));
    expect(parsed.types).toEqual(['int', 'float', 'int', 'int']);
    expect(parsed.d.nested.bytes).toBe(25_276_502_016);
    expect(parsed.d.nested.ms).toBe(-1_700_000_000_000);
    expect(parsed.d.tags).toEqual(['a', 'b']);
    expect(parsed.d.nested.nil).toBeNull();
    expect(parsed.d.list).toEqual([1, 'two', [3]]);
  });
});
