/**
 * The example specimens of the demo vault, each with a real protocol that `specimen run` executes: the
 * synthetic demo (the Python implementation's example), a grokking sweep over seeds, a GPT-2 probe over
 * layers and an SAE width sweep. The data are synthetic but shaped like the real experiments, so the
 * queries in the README (by tag, by domain, across seeds) have something to find.
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
      model: 'transformer-1l',
      tags: ['grokking', 'p113', 'sweep'],
      description:
        'One-layer transformer on (a + b) mod 113: train accuracy saturates early, test accuracy jumps late (grokking). Seeds vary the jump.',
    },
    protocolKind: 'ts',
    protocol: `/** Grokking curves for modular addition: test accuracy jumps at an epoch that depends on the seed. */
import { SpecimenStorage } from 'specimen-vault';

${RNG}

const seed = Number(process.env.SPECIMEN_SEED ?? 0);
const config = JSON.parse(process.env.SPECIMEN_CONFIG ?? '{}') as { epochs?: number; weight_decay?: number };
const epochs = config.epochs ?? 20000;
const wd = config.weight_decay ?? 1.0;
const u = rng(seed);
const n = normal(u);
const grokAt = 4000 + Math.floor(u() * 9000) / wd;

const storage = await SpecimenStorage.open(process.env.SPECIMEN_ID!);
await storage.startRun({ seeds: { global: seed }, config: { epochs, weight_decay: wd } });
const log = storage.metricsWriter();
for (let epoch = 0; epoch <= epochs; epoch += 50) {
  const train = 1 - Math.exp(-epoch / 400);
  const test = 0.01 + 0.98 / (1 + Math.exp(-(epoch - grokAt) / 300));
  log.log({
    step: epoch,
    train_loss: Math.max(1e-4, 4.7 * Math.exp(-epoch / 500) + 0.002 * Math.abs(n())),
    test_loss: Math.max(1e-4, 4.7 - 4.6 * (test - 0.01) + 0.02 * Math.abs(n())),
    train_acc: Math.min(1, train + 0.002 * n()),
    test_acc: Math.min(1, Math.max(0, test + 0.005 * n())),
  });
}
await storage.finish({ summary: { grokked_at: Math.round(grokAt) } });
console.log(\`seed \${seed}: grokked near epoch \${Math.round(grokAt)}\`);
`,
    runs: [
      { seed: 485, config: { weight_decay: 1.0 } },
      { seed: 999, config: { weight_decay: 1.0 } },
      { seed: 42, config: { weight_decay: 0.5 } },
    ],
    notes: 'Compare seeds 485 and 999; weight decay 0.5 delays grokking.',
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
