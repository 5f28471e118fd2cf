/**
 * The demo: `runSyntheticDemo` records one run of the synthetic demo specimen (it is also that specimen's
 * protocol), and `buildDemoVault` creates a vault with every example specimen and runs their protocols
 * through the runner.
 *
 * @example
 * const report = await buildDemoVault('./demo-vault')
 * report.runs.map((r) => r.runId)   // e.g. ['20261121_160512', …]
 */

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import { CONFIG_FILE, FIELD_NOTES_FILE } from '../format/layout.js';
import type { RunManifest } from '../format/manifest.js';
import { protocolLanguage } from '../format/protocols.js';
import { runProtocol } from '../runner/run-protocol.js';
import { listRunInfos } from '../storage/runs.js';
import { fieldNotesTemplate } from '../storage/scaffold.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import { Vault } from '../storage/vault.js';
import { DEMO_TURN_METRICS, EXAMPLES, type ExampleSpecimen } from './examples.js';
import { DEMO_SEED, DEMO_SPECIMEN_ID, syntheticDemoData } from './synthetic.js';

export interface DemoResult {
  vault: Vault;
  specimenId: string;
  runId: string;
  /** The sealed run manifest; undefined inside `specimen run`, where the runner seals the run. */
  manifest: RunManifest | undefined;
}

/** Creates (or reuses) the demo specimen in `vault` and records one sealed run of it. */
export async function runSyntheticDemo(
  options: { vault?: Vault | string; seed?: number } = {},
): Promise<DemoResult> {
  const vault = options.vault instanceof Vault ? options.vault : await Vault.open(options.vault);
  const seed = options.seed ?? DEMO_SEED;
  const dir = vault.specimenDir(DEMO_SPECIMEN_ID);
  if (!fs.existsSync(path.join(dir, 'manifest.msgpack'))) await createExampleSpecimen(vault, EXAMPLES[0]!);
  const storage = await SpecimenStorage.open(DEMO_SPECIMEN_ID, { vault });
  const data = syntheticDemoData(seed);
  await storage.startRun({
    seeds: { global: seed },
    config: { steps: 100, width: 512, generator: 'mulberry32+box-muller' },
  });
  await storage.writeMetrics(data.metrics);
  await storage.writeTensors('activations', data.activations, { shape: data.activationsShape });
  const m = data.metrics;
  const manifest = await storage.finish({
    summary: {
      final_loss: m.loss[m.loss.length - 1]!,
      final_accuracy: m.accuracy[m.accuracy.length - 1]!,
      min_loss: Math.min(...m.loss),
    },
  });
  return { vault, specimenId: DEMO_SPECIMEN_ID, runId: storage.runId!, manifest };
}

/** Creates an example specimen with its field notes and protocol file. */
async function createExampleSpecimen(vault: Vault, ex: ExampleSpecimen): Promise<void> {
  const entry = await vault.createSpecimen(ex.specimen, { allowLegacyId: ex.legacyId ?? false });
  const notes = fieldNotesTemplate(entry.manifest).replace('What you saw while it ran.', ex.notes);
  await writeFileAtomic(path.join(entry.path, FIELD_NOTES_FILE), notes);
  await writeFileAtomic(path.join(entry.path, protocolLanguage(ex.protocolKind).files[0]), ex.protocol);
}

/** Names the demo's turn metrics in the vault config, so the catalog records the grokking runs' turns. */
async function configureTurns(root: string): Promise<void> {
  const file = path.join(root, CONFIG_FILE);
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (config.turns !== undefined) return;
  config.turns = { metrics: [...DEMO_TURN_METRICS] };
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** What `buildDemoVault` did. */
export interface DemoVaultReport {
  vault: Vault;
  /** Runs recorded now: specimen, run, status, protocol output. */
  runs: { specimenId: string; runId: string; status: string; output: string }[];
  /** Specimens that already had runs and were left as they were. */
  kept: string[];
  /** Runs of the specimens in `options.defer`, left for the caller to start (as `specimen run` processes). */
  deferred: { specimenId: string; seed: number; config: Record<string, number | string> }[];
}

/**
 * Creates the demo vault at `dir` with every example specimen (protocol, field notes) and records their runs
 * through the runner, exactly as `specimen run` would. Specimens that already have a successful run are left
 * as they are, so running the demo twice is quick and adds nothing. The runs of specimens named in `defer`
 * are not run but returned in `deferred` (the demo serves first and trains those while serving).
 */
export async function buildDemoVault(
  dir: string,
  options: {
    onRun?: (run: DemoVaultReport['runs'][number] & { seed: number }) => void;
    defer?: readonly string[];
  } = {},
): Promise<DemoVaultReport> {
  const vault = await Vault.init(dir);
  await configureTurns(vault.root);
  const report: DemoVaultReport = { vault, runs: [], kept: [], deferred: [] };
  for (const ex of EXAMPLES) {
    const id = ex.specimen.specimenId;
    const specimenDir = vault.specimenDir(id);
    if (!fs.existsSync(path.join(specimenDir, 'manifest.msgpack'))) await createExampleSpecimen(vault, ex);
    const existing = await listRunInfos(id, specimenDir);
    if (existing.some((r) => r.status === 'succeeded')) {
      report.kept.push(id);
      continue;
    }
    if (options.defer?.includes(id)) {
      for (const r of ex.runs) report.deferred.push({ specimenId: id, seed: r.seed, config: r.config ?? {} });
      continue;
    }
    const runOne = async (r: ExampleSpecimen['runs'][number]) => {
      let output = '';
      const sink = {
        write: (d: string | Uint8Array): boolean => {
          output += d.toString();
          return true;
        },
      } as unknown as NodeJS.WritableStream;
      const result = await runProtocol({
        vault,
        specimenId: id,
        seed: r.seed,
        config: r.config ?? {},
        echo: { stdout: sink, stderr: sink },
      });
      const done = { specimenId: id, runId: result.runId, status: result.status, output: output.trim() };
      report.runs.push(done);
      options.onRun?.({ ...done, seed: r.seed });
      if (result.status !== 'succeeded') throw new Error(`demo: run of ${id} ${result.status}:\n${output}`);
    };
    // Two at a time: the grokking runs train for real and a demo machine has at least two cores.
    const queue = [...ex.runs];
    const worker = async () => {
      for (let r = queue.shift(); r !== undefined; r = queue.shift()) await runOne(r);
    };
    await Promise.all([worker(), worker()]);
  }
  return report;
}
