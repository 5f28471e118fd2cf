/**
 * Files a new specimen starts with: `field_notes.md` (purpose, methodology, observations, results,
 * next_steps) and a protocol template in TypeScript, JavaScript or Python that runs as is under
 * `specimen run` and logs a few metrics.
 *
 * @example
 * await scaffoldSpecimen(dir, manifest, 'py')   // writes field_notes.md and protocol.py
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import type { SpecimenManifest } from '../format/manifest.js';

/** Languages a protocol template exists for. */
export const PROTOCOL_KINDS = ['ts', 'js', 'py'] as const;
export type ProtocolKind = (typeof PROTOCOL_KINDS)[number];

/** The field notes a specimen starts with. */
export function fieldNotesTemplate(m: SpecimenManifest): string {
  const tags = m.tags.length > 0 ? m.tags.map((t) => `\`${t}\``).join(', ') : '—';
  return `# ${m.specimen_id}

- **Domain / method:** ${m.taxonomy.domain} / ${m.taxonomy.method}
- **Model:** ${m.model ?? '—'}
- **Tags:** ${tags}
- **Created:** ${m.created}

## Purpose

${m.description || 'What question does this specimen answer?'}

## Methodology

How the protocol works: data, model, hyper-parameters, seeds.

## Observations

What you saw while it ran.

## Results

Key figures and where they live (\`specimen show ${m.specimen_id}\`).

## Next steps

What to try next.
`;
}

/** Protocol source for `kind`. Each logs step/loss/accuracy lines to $SPECIMEN_RUN_DIR/metrics.jsonl. */
export function protocolTemplate(kind: ProtocolKind, m: SpecimenManifest): string {
  const header = `Protocol of specimen ${m.specimen_id} (${m.taxonomy.domain} / ${m.taxonomy.method}).`;
  switch (kind) {
    case 'py':
      return `"""${header}

Run with \`specimen run ${m.specimen_id}\`. The runner sets SPECIMEN_RUN_DIR, SPECIMEN_SEED and
SPECIMEN_CONFIG (JSON); every line appended to metrics.jsonl becomes a row of metrics.parquet.
"""
import json
import math
import os
import random

run_dir = os.environ.get("SPECIMEN_RUN_DIR", ".")
seed = int(os.environ.get("SPECIMEN_SEED", "0"))
config = json.loads(os.environ.get("SPECIMEN_CONFIG", "{}"))
steps = int(config.get("steps", 100))
lr = float(config.get("lr", 0.05))

random.seed(seed)
with open(os.path.join(run_dir, "metrics.jsonl"), "a") as out:
    loss = 2.0
    for step in range(steps):
        loss = 2.0 * math.exp(-lr * step) + 0.05 + random.gauss(0, 0.01)
        accuracy = 1 / (1 + math.exp(-(step - steps / 2) / (steps / 10)))
        out.write(json.dumps({"step": step, "loss": loss, "accuracy": accuracy}) + "\\n")
print(f"logged {steps} steps, final loss {loss:.4f}")
`;
    case 'js':
    case 'ts': {
      const ann = kind === 'ts';
      return `/**
 * ${header}
 *
 * Run with \`specimen run ${m.specimen_id}\`. The runner sets SPECIMEN_RUN_DIR, SPECIMEN_SEED and
 * SPECIMEN_CONFIG (JSON); every line appended to metrics.jsonl becomes a row of metrics.parquet.
 */
import fs from 'node:fs';
import path from 'node:path';

const runDir${ann ? ': string' : ''} = process.env.SPECIMEN_RUN_DIR ?? '.';
const seed = Number(process.env.SPECIMEN_SEED ?? 0);
const config${ann ? ': { steps?: number; lr?: number }' : ''} = JSON.parse(process.env.SPECIMEN_CONFIG ?? '{}');
const steps = config.steps ?? 100;
const lr = config.lr ?? 0.05;

// mulberry32: a small seeded generator so runs with the same seed are identical.
let state = seed >>> 0;
const random = ()${ann ? ': number' : ''} => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const lines${ann ? ': string[]' : ''} = [];
let loss = 2.0;
for (let step = 0; step < steps; step++) {
  loss = 2.0 * Math.exp(-lr * step) + 0.05 + (random() - 0.5) * 0.02;
  const accuracy = 1 / (1 + Math.exp(-(step - steps / 2) / (steps / 10)));
  lines.push(JSON.stringify({ step, loss, accuracy }));
}
fs.appendFileSync(path.join(runDir, 'metrics.jsonl'), \`\${lines.join('\\n')}\\n\`);
console.log(\`logged \${steps} steps, final loss \${loss.toFixed(4)}\`);
`;
    }
  }
}

/** Writes field notes and (when `kind` is given) a protocol; never overwrites an existing file. */
export async function scaffoldSpecimen(
  dir: string,
  m: SpecimenManifest,
  kind?: ProtocolKind,
): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, text: string): Promise<void> => {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return;
    await writeFileAtomic(file, text);
    written.push(name);
  };
  await put('field_notes.md', fieldNotesTemplate(m));
  if (kind) await put(`protocol.${kind}`, protocolTemplate(kind, m));
  return written;
}
