// `specimen import trackio` on project databases written by Trackio itself, checked value for value
// against Trackio's SQLiteStorage.get_logs / get_run_config; non-numeric values and damaged databases.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/helpers.js';
import {
  expectedJson,
  importedRuns,
  importFixtures,
  importVenvAvailable,
  newVault,
  num,
  seriesOf,
} from '../support/import-fixtures.js';

interface ExpectedRun {
  run_id: string;
  name: string;
  config: Record<string, unknown>;
  logs: ({ step: number; timestamp: string } & Record<string, unknown>)[];
}

/** Seconds since the epoch of Trackio's ISO timestamps, microseconds included. */
function seconds(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$/.exec(iso)!;
  return Date.parse(`${m[1]}${m[3] || 'Z'}`) / 1000 + (m[2] ? Number(`0${m[2]}`) : 0);
}

const available = importVenvAvailable();

describe.skipIf(!available)('specimen import trackio', () => {
  let fx: string;
  beforeAll(() => {
    fx = path.join(importFixtures(), 'trackio');
  }, 900_000);

  it('imports a project database value for value against get_logs; a re-import adds nothing', async () => {
    const vault = newVault();
    const db = path.join(fx, 'store', 'vision-sweep.db');
    const r = await runCli(['import', 'trackio', db, '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    const expected = expectedJson<Record<string, ExpectedRun[]>>(fx, '.')['vision-sweep']!;
    const runs = await importedRuns(vault);
    expect(runs.size).toBe(expected.length);
    for (const want of expected) {
      const got = runs.get(want.run_id)!;
      expect(got.specimenId).toMatch(/^\d{4}_\d{2}_\d{2}_vision_sweep$/);
      expect(got.manifest.imported_from.source_run_name).toBe(want.name);
      const { _Created, _Group, _Username, ...config } = want.config;
      expect(got.manifest.config).toEqual(config);
      expect(Date.parse(got.manifest.started as string)).toBe(Date.parse(String(_Created)));
      const series = await seriesOf(got);
      const keys = new Set(
        want.logs.flatMap((l) => Object.keys(l)).filter((k) => k !== 'step' && k !== 'timestamp'),
      );
      expect([...series.keys()].sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const points = want.logs
          .filter((l) => key in l)
          .map((l) => ({ step: l.step, value: num(l[key]), wallTime: seconds(l.timestamp) }));
        const gotPoints = series.get(key)!;
        expect(gotPoints.map((p) => [p.step, p.value])).toEqual(points.map((p) => [p.step, p.value]));
        for (const [i, p] of gotPoints.entries()) expect(p.wallTime).toBeCloseTo(points[i]!.wallTime, 5);
      }
      expect(series.get('eval/accuracy')!.map((p) => p.step)).toEqual([0, 10, 20, 30]);
    }
    const again = await runCli(['import', 'trackio', db, '--vault', vault]);
    expect(again.stdout).toMatch(/0 run\(s\) imported, 2 skipped as already imported/);
  });

  it('imports every project of a directory and reports values that are not numbers (exit 1)', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'trackio', path.join(fx, 'store'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/odd-values\.db#[0-9a-f]+\/comment: values that are not numbers/);
    expect((await importedRuns(vault)).size).toBe(3);
  });

  it('reports a truncated database and an unknown schema with path and reason (exit 2)', async () => {
    const vault = newVault();
    for (const [file, reason] of [
      ['truncated.db', 'not a readable SQLite database'],
      [
        'unknown-schema.db',
        'not a Trackio project database of a known schema: table metrics has no column "timestamp"',
      ],
    ] as const) {
      const r = await runCli(['import', 'trackio', path.join(fx, 'bad', file), '--vault', vault]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`${path.join(fx, 'bad', file)}: ${reason}`);
    }
    expect(fs.readdirSync(path.join(vault, 'specimens'))).toEqual([]);
  });
});
