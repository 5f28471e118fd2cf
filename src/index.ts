/**
 * specimen-vault: a local-first archive for machine-learning experiments. Each experiment is a specimen
 * with immutable, sealed runs; metrics are Parquet, tensors are Zarr, manifests are msgpack.
 *
 * @example
 * import { SpecimenStorage, Vault } from 'specimen-vault'
 * const vault = await Vault.init('./vault')
 * await vault.createSpecimen({ specimenId: '2025_01_02_probe', domain: 'interpretability', method: 'probe_training' })
 * const storage = await SpecimenStorage.open('2025_01_02_probe', { vault })
 * await storage.writeMetrics({ step: [0, 1], loss: [1.0, 0.5] })
 * await storage.finish()
 */

// The grokking demo specimen's protocol.
export { type GrokkingDemoOptions, runGrokkingDemo } from './demo/grokking-run.js';
export { type DemoResult, runSyntheticDemo } from './demo/run-demo.js';
// The synthetic demo specimen.
export { DEMO_SPECIMEN_ID, type SyntheticDemoData, syntheticDemoData } from './demo/synthetic.js';
// Errors.
export * from './errors.js';
// Field notes: the older `●` markup as Markdown, dated entries.
export { appendNoteEntry, fieldNotesToMarkdown, noteHeading } from './format/field-notes.js';
// Format: identifiers, taxonomy, manifests.
export {
  assertNewSpecimenId,
  assertSafeName,
  compareRunIds,
  RUN_ID_PATTERN,
  SPECIMEN_ID_PATTERN,
} from './format/ids.js';
export { CATALOG_FILE, CONFIG_FILE } from './format/layout.js';
export {
  effectiveSpecimenStatus,
  LAB_FIELDS,
  type LabField,
  RUN_STATUSES,
  type RunManifest,
  type RunStatus,
  SPECIMEN_STATUSES,
  type SpecimenManifest,
  type SpecimenStatus,
  validateRunManifest,
  validateSpecimenManifest,
} from './format/manifest.js';
export { decodeManifest, encodeManifest, type PlainObject, type PlainValue } from './format/msgpack.js';
export { DEFAULT_TAXONOMY, type Taxonomy } from './format/taxonomy.js';
export { findVaultRoot, type VaultConfig } from './format/vault-config.js';
export { assertViewName, type SavedView, type ViewItem, validateView } from './format/view.js';
// Reports and experiment logs.
export { buildReportData, type ReportOptions } from './report/build-report.js';
export { renderReportHtml } from './report/html.js';
export { type ExperimentLogOptions, experimentLog } from './report/markdown-log.js';
export type { ReportData } from './report/report-types.js';
export { type Durability, flushGroupCommits } from './storage/durability.js';
export {
  type MetricsFileInfo,
  type MetricsInput,
  MetricsWriter,
  type MetricsWriterOptions,
} from './storage/metrics/index.js';
// The lab notebook: hypothesis, expected results, conclusion, status, tags, field notes.
export {
  appendFieldNote,
  type NotebookPatch,
  readFieldNotes,
  updateNotebook,
  writeFieldNotes,
} from './storage/notebook.js';
export { type RecoveryReport, recoverJournal } from './storage/recovery.js';
export type { EffectiveRunStatus, RunDescription, RunInfo } from './storage/runs.js';
export { type BatchSeal, type FinishOptions, sealRunDir } from './storage/seal.js';
export { SpecimenStorage, type StartRunOptions } from './storage/specimen-storage.js';
export {
  type Compressor,
  DTYPES,
  type Dtype,
  openTensor,
  type Selection,
  type TensorData,
  type TensorHandle,
  type TensorInfo,
  type WriteTensorOptions,
  writeZarr,
} from './storage/tensors/index.js';
// Storage: vaults, specimens, runs.
export { type NewSpecimen, type SpecimenEntry, type SpecimenProblem, Vault } from './storage/vault.js';
export { deleteView, listViews, readView, saveView, type ViewListing } from './storage/views.js';
