// `specimen turns` through the built CLI: a table of turns per run and metric, and --json.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/helpers.js';
import { addTurnRun, TURN_SPECIMEN, vaultWithTurns } from '../support/turns-vault.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe('specimen turns', () => {
  it('prints the turn of each run and metric, and the same as JSON', async () => {
    const vault = await vaultWithTurns();
    made.push(vault.root);
    const run = await addTurnRun(vault, 900);
    const table = await runCli(['turns', '--vault', vault.root], { env: { ...process.env, NO_COLOR: '1' } });
    expect(table.code, table.stderr).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.includes('test_loss'))!;
    expect(line).toContain(TURN_SPECIMEN);
    expect(line).toContain(run);
    const turnStep = Number(/test_loss\s*│\s*(\d+)/.exec(line)?.[1]);
    expect(Math.abs(turnStep - 900)).toBeLessThanOrEqual(20);
    expect(table.stdout.split('\n').find((l) => l.includes('train_loss'))).toMatch(/train_loss\s*│\s*-/);
    expect(table.stdout).toContain('1 turn(s) in 2 run metric(s)');

    const json = await runCli([
      'turns',
      TURN_SPECIMEN,
      '--metric',
      'test_loss',
      '--json',
      '--vault',
      vault.root,
    ]);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { runId: string; turns: Record<string, { step: number }> }[];
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.runId).toBe(run);
    expect(parsed[0]!.turns.test_loss!.step).toBe(turnStep);

    const missing = await runCli(['turns', '2025_01_02_nothing', '--vault', vault.root]);
    expect(missing.code).toBe(3);
  });
});
