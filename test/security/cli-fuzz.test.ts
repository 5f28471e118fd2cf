// A bounded, seeded fuzz of the CLI's inputs: specimen IDs, run IDs and `--set` values that break the rules
// each give one clear line on stderr and exit 2 (3 for a safe name that does not exist), and nothing is
// written outside the vault (nor, for a refused run, inside it).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRunId, assertSpecimenId, SPECIMEN_ID_PATTERN } from '../../src/format/ids.js';
import { runCli } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

const SEED = 20_261_203;
const RUNS = 8;
let v: TestVault;

beforeAll(async () => {
  v = await demoVault('sv-fuzz-');
});

afterAll(() => v?.cleanup());

/** Every path under `dir` with its size, to compare before and after. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(`${path.relative(dir, p)}:${e.isFile() ? fs.statSync(p).size : 'd'}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Strings that are not specimen IDs, including traversal and shell-ish shapes; never an option. */
const badId = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom(
      '../escape',
      '2025_01_02_../x',
      '/etc/passwd',
      '2025_01_02_a/b',
      '2025_01_02_ x',
      '2025_1_2_x',
      '~',
    ),
    fc.string({ minLength: 1, maxLength: 20 }).map((s) => `2025_01_02_${s}`),
  )
  .filter((s) => !SPECIMEN_ID_PATTERN.test(s) && !s.startsWith('-') && !s.includes('\0') && s.trim() !== '');

/** `--set` values that are not `key=value` with an identifier key. */
const badSet = fc
  .oneof(
    fc.string({ maxLength: 30 }).filter((s) => !s.includes('=')),
    fc.string({ maxLength: 10 }).map((s) => `=${s}`),
    fc.constantFrom('../x=1', '1a=2', 'a..b=3', 'a b=1', '$(rm)=1', 'a.=1', '.a=1'),
  )
  .filter((s) => !s.startsWith('-') && !s.includes('\0'));

/** 2 when `check` refuses the value's shape; otherwise it is a name that might exist: 3, not found. */
function expectedCode(check: (v: string) => void, value: string): number {
  try {
    check(value);
    return 3;
  } catch {
    return 2;
  }
}

function expectClearRefusal(r: { code: number; stderr: string }, code = 2): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0], r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(/\n\s+at |unexpected failure/);
}

describe('CLI input fuzz', () => {
  it('refuses bad specimen IDs clearly, writing nothing', async () => {
    const before = snapshot(v.dir);
    await fc.assert(
      fc.asyncProperty(badId, fc.constantFrom('new', 'show', 'run'), async (id, command) => {
        const args =
          command === 'new' ? ['new', id, '--domain', 'training', '--method', 'fine_tuning'] : [command, id];
        const r = await runCli([...args, '--vault', v.root], { cwd: v.dir });
        // A new ID must have the dated shape; an existing one need only be a safe name (legacy IDs).
        expectClearRefusal(r, command === 'new' ? 2 : expectedCode(assertSpecimenId, id));
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(snapshot(v.dir)).toEqual(before);
  });

  it('refuses bad --set values before a run starts', async () => {
    const before = snapshot(v.dir);
    await fc.assert(
      fc.asyncProperty(badSet, async (set) => {
        const r = await runCli(['run', DEMO, '--set', set, '--vault', v.root, '--', 'true'], { cwd: v.dir });
        expectClearRefusal(r);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(snapshot(v.dir)).toEqual(before);
  });

  it('refuses bad run IDs clearly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ minLength: 1, maxLength: 30 })
          .filter((s) => !/^\d{8}_\d{6}/.test(s) && !s.startsWith('-')),
        async (run) => {
          const r = await runCli(['show', DEMO, '--run', run, '--vault', v.root], { cwd: v.dir });
          expectClearRefusal(r, expectedCode(assertRunId, run));
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
