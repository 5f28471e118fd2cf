/**
 * The protocol languages, one row each: the `--protocol` value of `specimen new`, the file names the runner
 * looks for, how the runner starts the protocol, how it reaches this library, and the template a new
 * specimen starts with. The runner, the scaffold, the server, the CLI help and the demo all read this
 * table, so a new language is one new row.
 *
 * @example
 * const py = protocolLanguage('py')
 * py.files[0]             // 'protocol.py', the file `specimen new --protocol py` writes
 * py.template(manifest)   // and its source
 * PROTOCOL_FILES          // ['protocol.ts', 'protocol.js', 'protocol.mjs', 'protocol.py']: the runner's order
 */
import type { SpecimenManifest } from './manifest.js';

/** How the runner starts a protocol file. */
export type ProtocolCommand =
  /** `node --import <each preload> --import <the library's resolve hooks> FILE`. */
  | { readonly runtime: 'node'; readonly preload: readonly string[] }
  /** `<python> <flags> FILE`, with the interpreter from `--python` (default `python3`). */
  | { readonly runtime: 'python'; readonly flags: readonly string[] };

/** One protocol language. */
export interface ProtocolLanguage {
  /** The `--protocol` value of `specimen new`. */
  readonly kind: 'ts' | 'js' | 'py';
  /** Recorded as the run manifest's `language`. */
  readonly language: 'typescript' | 'javascript' | 'python';
  /** The file names of this language, in the order the runner looks for them; `specimen new` writes the first. */
  readonly files: readonly [string, ...string[]];
  readonly command: ProtocolCommand;
  /** How a protocol in this language uses the library, for help texts. */
  readonly helper: string;
  /** The protocol a new specimen starts with: it runs as is and logs a few metrics. */
  readonly template: (m: SpecimenManifest) => string;
}

/** A `--protocol` value. */
export type ProtocolKind = ProtocolLanguage['kind'];

/** The languages, in the order the runner tries them when a specimen has several protocol files. */
export const PROTOCOL_LANGUAGES: readonly ProtocolLanguage[] = [
  {
    kind: 'ts',
    language: 'typescript',
    files: ['protocol.ts'],
    // tsx strips the types, so a TypeScript protocol runs without a build step.
    command: { runtime: 'node', preload: ['tsx'] },
    helper: "import … from 'specimen-vault' (no node_modules needed)",
    template: (m) => nodeTemplate(m, true),
  },
  {
    kind: 'js',
    language: 'javascript',
    files: ['protocol.js', 'protocol.mjs'],
    command: { runtime: 'node', preload: [] },
    helper: "import … from 'specimen-vault' (no node_modules needed)",
    template: (m) => nodeTemplate(m, false),
  },
  {
    kind: 'py',
    language: 'python',
    files: ['protocol.py'],
    // Unbuffered, so the protocol's output streams live instead of arriving when it ends.
    command: { runtime: 'python', flags: ['-u'] },
    helper: 'import specimen_vault as sv; sv.log(step=…, loss=…)',
    template: pythonTemplate,
  },
];

/** The `--protocol` values, in table order. */
export const PROTOCOL_KINDS: readonly ProtocolKind[] = PROTOCOL_LANGUAGES.map((l) => l.kind);

/** Every protocol file name, in the order the runner looks for them. */
export const PROTOCOL_FILES: readonly string[] = PROTOCOL_LANGUAGES.flatMap((l) => l.files);

/** The row of `kind`; undefined for a value that is not a `--protocol` value. */
export function protocolLanguage(kind: ProtocolKind): ProtocolLanguage;
export function protocolLanguage(kind: string): ProtocolLanguage | undefined;
export function protocolLanguage(kind: string): ProtocolLanguage | undefined {
  return PROTOCOL_LANGUAGES.find((l) => l.kind === kind);
}

/** `a, b, c or d`, for messages that list the protocol files or kinds. */
export function listOr(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** The first line of every template. */
function header(m: SpecimenManifest): string {
  return `Protocol of specimen ${m.specimen_id} (${m.taxonomy.domain} / ${m.taxonomy.method}).`;
}

/** The Python template: logs step/loss/accuracy lines to $SPECIMEN_RUN_DIR/metrics.jsonl. */
function pythonTemplate(m: SpecimenManifest): string {
  return `"""${header(m)}

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
}

/** The TypeScript (`ann`: with type annotations) or JavaScript template, logging like the Python one. */
function nodeTemplate(m: SpecimenManifest, ann: boolean): string {
  return `/**
 * ${header(m)}
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
