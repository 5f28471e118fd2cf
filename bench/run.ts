/**
 * `npm run bench [-- --json] [-- --quick] [-- --only NAME]`: runs every benchmark module in this folder and
 * prints each figure as a ratio against its same-run baseline. `--json` also writes bench/results/latest.json.
 * `npm run bench -- --peers[=mlflow,aim]` runs only the peer benchmark (peers.bench.ts: MLflow, TensorBoard,
 * W&B, Trackio, Aim side by side, in a Python environment of its own), which never runs without the flag.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchModule, BenchResult } from './harness.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const peersArg = args.find((a) => a === '--peers' || a.startsWith('--peers='));
const peers = peersArg?.includes('=')
  ? peersArg
      .slice('--peers='.length)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
  : [];

const dir = import.meta.dirname;
const PEERS_FILE = 'peers.bench.ts';
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  // The peer benchmark installs and runs other trackers: only on request, and then alone.
  .filter((f) => (peersArg ? f === PEERS_FILE : f !== PEERS_FILE))
  .filter((f) => !only || f.startsWith(only))
  .sort();

const all: BenchResult[] = [];
for (const f of files) {
  console.log(`\n== ${f}`);
  const mod = (await import(path.join(dir, f))) as BenchModule;
  const results = await mod.run({ quick, json, peers });
  for (const r of results) {
    all.push(r);
    console.log(
      `${r.pass ? 'PASS' : 'FAIL'}  ${r.name}: ratio ${r.ratio.toFixed(3)} (target ${r.target}) — ${r.description}; ` +
        `ours ${fmt(r.value)} ${r.unit}, baseline ${fmt(r.baseline)} ${r.unit}` +
        (r.details
          ? `; ${Object.entries(r.details)
              .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`)
              .join(', ')}`
          : ''),
    );
  }
}
if (json) {
  const out = path.join(dir, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results: all }, null, 2)}\n`,
  );
  console.log(`\nwrote ${out}`);
}
const failed = all.filter((r) => !r.pass).length;
console.log(`\n${all.length - failed} passed, ${failed} failed`);

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
}
