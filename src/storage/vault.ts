/**
 * A vault: a directory with `specimens/` and a config file. `Vault` creates and lists specimens; each
 * specimen is then read and written through `SpecimenStorage`.
 *
 * @example
 * const vault = await Vault.open()                       // nearest vault above the working directory
 * await vault.createSpecimen({ specimenId: '2025_01_02_grokking', domain: 'training', method: 'fine_tuning' })
 * const { specimens, problems } = await vault.listSpecimens()
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CorruptManifestError, DuplicateSpecimenError, isVaultError, NotFoundError } from '../errors.js';
import { assertNewSpecimenId, assertSpecimenId, closest } from '../format/ids.js';
import { MANIFEST_FILE, SPECIMENS_DIR, stampOf } from '../format/layout.js';
import {
  normalizeSpecimenManifest,
  type SpecimenManifest,
  validateSpecimenManifest,
} from '../format/manifest.js';
import { type PlainObject, type PlainValue, readManifestFile, writeManifestFile } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { assertTaxonomy } from '../format/taxonomy.js';
import { findVaultRoot, initVault, readVaultConfig, type VaultConfig } from '../format/vault-config.js';

/** Input of `createSpecimen`. */
export interface NewSpecimen {
  /** `YYYY_MM_DD_descriptor`. */
  specimenId: string;
  domain: string;
  method: string;
  model?: string;
  tags?: readonly string[];
  description?: string;
  /** `active` (default) or `planned`: an experiment recorded before it runs (docs/format.md, lifecycle). */
  status?: 'active' | 'planned';
  /** Lab-notebook fields, stored only when given. */
  hypothesis?: string;
  expectedResults?: string;
  dependencies?: PlainObject;
  /** Any further manifest fields (snake_case keys); they are stored as given. */
  extra?: PlainObject;
}

/** A problem met while listing specimens: the listing goes on without that directory. */
export interface SpecimenProblem {
  specimenId: string;
  path: string;
  severity: 'warning' | 'error';
  message: string;
}

/** One specimen as listed. */
export interface SpecimenEntry {
  specimenId: string;
  /** Absolute path of the specimen directory. */
  path: string;
  manifest: SpecimenManifest;
}

export class Vault {
  /** Specimen manifests read through this object, by file, with the stamp of the version read. */
  private readonly manifests = new Map<string, { stamp: string; manifest: SpecimenManifest }>();

  private constructor(
    /** Absolute path of the vault root. */
    readonly root: string,
    /** Parsed config (effective taxonomy). */
    readonly config: VaultConfig,
  ) {}

  /** Opens the vault at `dir`, or the one found from the working directory / SPECIMEN_VAULT. */
  static async open(dir?: string): Promise<Vault> {
    const root = findVaultRoot(dir === undefined ? {} : { explicit: dir });
    return new Vault(root, await readVaultConfig(root));
  }

  /** Creates (or reopens) a vault at `dir`. */
  static async init(dir: string, options: { name?: string } = {}): Promise<Vault> {
    const { root } = await initVault(dir, options);
    return new Vault(root, await readVaultConfig(root));
  }

  /** Absolute path of the `specimens/` directory. */
  get specimensDir(): string {
    return path.join(this.root, SPECIMENS_DIR);
  }

  /** Absolute directory of a specimen; the ID is validated so the path cannot leave the vault. */
  specimenDir(specimenId: string): string {
    assertSpecimenId(specimenId);
    return within(this.specimensDir, specimenId);
  }

  /** IDs of all specimen directories (whether or not their manifests are readable), sorted. */
  async specimenIds(): Promise<string[]> {
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(this.specimensDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }

  /** Throws NotFoundError (with the closest IDs) unless the specimen directory exists. */
  async assertSpecimenExists(specimenId: string): Promise<string> {
    const dir = this.specimenDir(specimenId);
    if (!fs.existsSync(dir)) {
      throw new NotFoundError('specimen', specimenId, closest(specimenId, await this.specimenIds()));
    }
    return dir;
  }

  /** Reads a specimen manifest; CorruptManifestError names the file, NotFoundError when there is none. */
  async readSpecimenManifest(specimenId: string): Promise<SpecimenManifest> {
    const dir = await this.assertSpecimenExists(specimenId);
    const file = path.join(dir, MANIFEST_FILE);
    // A sweep opens its specimen once per run: a stat tells whether the manifest read last is still the
    // one on disk (every writer replaces it by temp file + rename, which changes its inode).
    const st = await fsp.stat(file).catch(() => undefined);
    const cached = this.manifests.get(file);
    if (st && cached && cached.stamp === stampOf(st)) return structuredClone(cached.manifest);
    let raw: PlainObject;
    try {
      raw = await readManifestFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError('manifest', `${specimenId}/${MANIFEST_FILE}`, [], `${file} does not exist`);
      throw err;
    }
    try {
      const manifest = normalizeSpecimenManifest(raw, specimenId, file);
      if (st) this.manifests.set(file, { stamp: stampOf(st), manifest: structuredClone(manifest) });
      return manifest;
    } catch (err) {
      if (isVaultError(err, 'ManifestError'))
        throw new CorruptManifestError(file, err.message, { cause: err });
      throw err;
    }
  }

  /** Every readable specimen plus the problems found (missing manifest: warning; corrupt: error). */
  async listSpecimens(): Promise<{ specimens: SpecimenEntry[]; problems: SpecimenProblem[] }> {
    const specimens: SpecimenEntry[] = [];
    const problems: SpecimenProblem[] = [];
    for (const id of await this.specimenIds()) {
      const dir = path.join(this.specimensDir, id);
      try {
        specimens.push({ specimenId: id, path: dir, manifest: await this.readSpecimenManifest(id) });
      } catch (err) {
        if (isVaultError(err, 'NotFoundError')) {
          problems.push({
            specimenId: id,
            path: dir,
            severity: 'warning',
            message: `specimen ${id}: no ${MANIFEST_FILE} in ${dir}; skipped (create one with \`specimen new\` or remove the directory)`,
          });
        } else if (isVaultError(err, 'CorruptManifestError', 'InvalidIdError')) {
          problems.push({ specimenId: id, path: dir, severity: 'error', message: err.message });
        } else throw err;
      }
    }
    return { specimens, problems };
  }

  /**
   * Creates a specimen directory with its manifest. Validates the ID and the taxonomy first; nothing is
   * written when either is wrong, and an existing ID is refused. `allowLegacyId` accepts any safe directory
   * name instead of the `YYYY_MM_DD_descriptor` rule.
   */
  async createSpecimen(
    input: NewSpecimen,
    options: { allowLegacyId?: boolean } = {},
  ): Promise<SpecimenEntry> {
    // Legacy IDs (the Python implementation's example_… names) are allowed only on request, for re-creating them.
    if (options.allowLegacyId) assertSpecimenId(input.specimenId);
    else assertNewSpecimenId(input.specimenId);
    assertTaxonomy(this.config.taxonomy, input.domain, input.method);
    const dir = this.specimenDir(input.specimenId);
    const manifest: PlainObject = {
      specimen_id: input.specimenId,
      created: new Date().toISOString(),
      taxonomy: { domain: input.domain, method: input.method },
      model: input.model ?? null,
      status: input.status ?? 'active',
      tags: [...(input.tags ?? [])],
      description: input.description ?? '',
      ...(input.hypothesis ? { hypothesis: input.hypothesis } : {}),
      ...(input.expectedResults ? { expected_results: input.expectedResults } : {}),
      dependencies: input.dependencies ?? {},
      artifacts: {},
    };
    for (const [k, v] of Object.entries(input.extra ?? {})) {
      if (!(k in manifest)) manifest[k] = v as PlainValue;
    }
    validateSpecimenManifest(manifest, { taxonomy: this.config.taxonomy });
    await fsp.mkdir(this.specimensDir, { recursive: true });
    try {
      await fsp.mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new DuplicateSpecimenError(input.specimenId);
      throw err;
    }
    await writeManifestFile(path.join(dir, MANIFEST_FILE), manifest);
    return { specimenId: input.specimenId, path: dir, manifest: manifest as SpecimenManifest };
  }

  /** Rewrites a specimen manifest after validating it (used for tags, status and description edits). */
  async updateSpecimenManifest(
    specimenId: string,
    update: (m: SpecimenManifest) => void,
  ): Promise<SpecimenManifest> {
    const m = await this.readSpecimenManifest(specimenId);
    update(m);
    validateSpecimenManifest(m);
    await writeManifestFile(path.join(this.specimenDir(specimenId), MANIFEST_FILE), m);
    return m;
  }
}
