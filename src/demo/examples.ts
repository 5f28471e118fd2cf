/**
 * The example specimens of the demo vault, each with a real protocol that `specimen run` executes: the
 * synthetic demo (the Python implementation's example), a real grokking sweep over primes and seeds
 * (src/demo/grokking.ts), a GPT-2 probe over layers and an SAE width sweep. The probe and SAE data are
 * synthetic but shaped like the real experiments, so the queries in the README (by tag, by domain, across
 * seeds) have something to find.
 */
import type { ProtocolKind } from '../format/protocols.js';
import type { NewSpecimen } from '../storage/vault.js';
import { DEMO_SEED, DEMO_SPECIMEN_ID } from './synthetic.js';

/** One example specimen: its manifest input, its protocol source, and the runs the demo records. */
export interface ExampleSpecimen {
  specimen: NewSpecimen;
  /** Created with a legacy (non-dated) ID. */
  legacyId?: boolean;
  /** The protocol's language (format/protocols.ts); the demo writes that language's protocol file. */
  protocolKind: ProtocolKind;
  protocol: string;
  runs: { seed: number; config?: Record<string, number | string> }[];
  /** Runs started as `specimen run` processes once the demo's server is up, to be watched while they train. */
  liveRuns?: { seed: number; config?: Record<string, number | string> }[];
  notes: string;
}

const RNG = `// mulberry32 + Box-Muller: seeded, identical on every machine.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}`;

export const EXAMPLES: readonly ExampleSpecimen[] = [
  {
    specimen: {
      specimenId: DEMO_SPECIMEN_ID,
      domain: 'interpretability',
      method: 'sae_analysis',
      model: 'synthetic',
      tags: ['demo', 'example', 'synthetic'],
      description: 'Pedagogical example demonstrating the Specimen Vault pattern with synthetic data',
      dependencies: { node: '>=20', 'specimen-vault': '>=0.1' },
    },
    legacyId: true,
    protocolKind: 'ts',
    protocol: `/**
 * Synthetic training curves (loss, accuracy, entropy) and activations (100, 512) from a seeded generator.
 * The same seed gives identical metrics and tensor bytes: \`specimen reproduce\` proves it.
 */
import { runSyntheticDemo } from 'specimen-vault';

const result = await runSyntheticDemo({ seed: Number(process.env.SPECIMEN_SEED ?? ${DEMO_SEED}) });
console.log(\`wrote 100 steps of loss/accuracy/entropy and activations (100, 512) into run \${result.runId}\`);
`,
    runs: [{ seed: DEMO_SEED }],
    notes: 'Synthetic curves and activations; used by the documented example queries.',
  },
  {
    specimen: {
      specimenId: '2025_01_15_grokking_modular_addition',
      domain: 'training',
      method: 'fine_tuning',
      model: 'mlp-1l',
      tags: ['grokking', 'p31', 'p37', 'sweep'],
      description:
        'A one-hidden-layer MLP learns (a + b) mod p with AdamW and weight decay: train accuracy saturates early, test accuracy jumps late (grokking). Primes 31 and 37 × seeds 1–3.',
    },
    protocolKind: 'ts',
    protocol: `/**
 * Real grokking: trains an MLP on (a + b) mod p (config.prime) from scratch for the run's seed, logging
 * train/test loss and accuracy every step and weights and activations (neuron × a × b) every 250 steps.
 */
import { runGrokkingDemo } from 'specimen-vault';

const seed = Number(process.env.SPECIMEN_SEED ?? 1);
const config = JSON.parse(process.env.SPECIMEN_CONFIG ?? '{}') as { prime?: number; steps?: number };
const r = await runGrokkingDemo({ prime: config.prime ?? 31, seed, steps: config.steps ?? 2500 });
console.log(
  \`p=\${config.prime ?? 31} seed \${seed}: train solved at step \${r.trainSolvedAt}, test ≥ 95 % at step \${r.testSolvedAt ?? 'never'}\`,
);
`,
    // Two runs train (side by side) before the web UI is served, so its first page comes within a minute;
    // the rest of the sweep trains as live runs once it is up.
    runs: [
      { seed: 1, config: { prime: 31 } },
      { seed: 2, config: { prime: 31 } },
    ],
    liveRuns: [
      { seed: 3, config: { prime: 31 } },
      { seed: 1, config: { prime: 37 } },
      { seed: 2, config: { prime: 37 } },
      { seed: 3, config: { prime: 37 } },
    ],
    notes:
      'Train accuracy reaches 100 % within a few hundred steps while test accuracy stays at chance; test accuracy turns (see `specimen turns`: half its final value, at steps 760–1,050) some 600–950 steps later, as weight decay shrinks the weights toward the Fourier solution. The p = 31 seed 3 and p = 37 runs start when the web UI does, so they can be watched.',
  },
  {
    specimen: {
      specimenId: '2025_02_03_gpt2_layer_probes',
      domain: 'interpretability',
      method: 'probe_training',
      model: 'gpt2',
      tags: ['gpt2', 'probe', 'syntax'],
      description: 'Linear probes for part-of-speech on each residual-stream layer of GPT-2 small.',
    },
    protocolKind: 'js',
    protocol: `/** Probe accuracy per layer of GPT-2 small, written as JSON lines (any language can do this). */
import fs from 'node:fs';

const seed = Number(process.env.SPECIMEN_SEED ?? 0);
let a = seed >>> 0;
const u = () => {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const lines = [];
for (let layer = 0; layer < 12; layer++) {
  const peak = 0.55 + 0.4 * Math.exp(-((layer - 6) ** 2) / 10);
  for (let step = 0; step < 200; step += 10) {
    const acc = peak * (1 - Math.exp(-step / 40)) + 0.01 * (u() - 0.5);
    lines.push(JSON.stringify({ step: layer * 1000 + step, layer, probe_step: step, accuracy: acc, loss: -Math.log(Math.max(acc, 1e-3)) }));
  }
}
fs.writeFileSync(process.env.SPECIMEN_RUN_DIR + '/metrics.jsonl', lines.join('\\n') + '\\n');
console.log('probed 12 layers');
`,
    runs: [{ seed: 1 }],
    notes: 'Syntax is most linearly decodable in the middle layers.',
  },
  {
    specimen: {
      specimenId: '2025_03_10_gpt2_sae_width_sweep',
      domain: 'interpretability',
      method: 'sae_analysis',
      model: 'gpt2',
      tags: ['gpt2', 'sae', 'sweep'],
      description:
        'Sparse autoencoders of increasing width on GPT-2 layer 6: reconstruction error, L0 and dead features.',
    },
    protocolKind: 'ts',
    protocol: `/** SAE training curves for one dictionary width (config.width), plus the learned decoder norms. */
import { SpecimenStorage } from 'specimen-vault';

${RNG}

const seed = Number(process.env.SPECIMEN_SEED ?? 0);
const config = JSON.parse(process.env.SPECIMEN_CONFIG ?? '{}') as { width?: number };
const width = config.width ?? 4096;
const u = rng(seed);
const n = normal(u);
const storage = await SpecimenStorage.open(process.env.SPECIMEN_ID!);
await storage.startRun({ seeds: { global: seed }, config: { width } });
const log = storage.metricsWriter();
const floor = 0.02 + 40 / width;
for (let step = 0; step <= 5000; step += 25) {
  log.log({
    step,
    mse: floor + 0.5 * Math.exp(-step / 600) + 0.002 * Math.abs(n()),
    l0: 20 + 200 * Math.exp(-step / 900) + n(),
    dead_fraction: Math.min(1, (width / 65536) * (1 - Math.exp(-step / 2000)) + 0.002 * Math.abs(n())),
  });
}
const norms = new Float32Array(width);
for (let i = 0; i < width; i++) norms[i] = 1 + 0.05 * n();
await storage.writeTensors('decoder_norms', norms, { shape: [width] });
await storage.finish();
console.log(\`width \${width}: done\`);
`,
    runs: [
      { seed: 7, config: { width: 4096 } },
      { seed: 7, config: { width: 16384 } },
    ],
    notes: 'Wider dictionaries reconstruct better and leave more features dead.',
  },
];

/** The metrics whose turns the demo vault's catalog records (specimen-vault.json `turns.metrics`). */
export const DEMO_TURN_METRICS = ['test_loss', 'test_acc'] as const;
