/**
 * `npm run bench [-- --json] [-- --quick] [-- --only NAME]`: runs every benchmark module in this folder and
 * prints each figure as a ratio against its same-run baseline. `--json` also writes bench/results/latest.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchModule, BenchResult } from './harness.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;

const dir = import.meta.dirname;
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || f.startsWith(only))
  .sort();

const all: BenchResult[] = [];
for (const f of files) {
  console.log(`\n== ${f}`);
  const mod = (await import(path.join(dir, f))) as BenchModule;
  const results = await mod.run({ quick });
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
