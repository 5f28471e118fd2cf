import fs from 'node:fs';
import path from 'node:path';
import { marked, type Tokens } from 'marked';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failurePoint } from '../../../src/report/collect.js';
import { demoteHeadings, experimentLog, mdCode, mdText } from '../../../src/report/markdown-log.js';
import type { Vault } from '../../../src/storage/vault.js';
import { FIXTURES, runCli } from '../../support/helpers.js';
import { NOTEBOOK_SPECIMEN, notebookVault } from '../../support/notebook-vault.js';

const EXPECTED = path.join(FIXTURES, 'experiment-log', 'lr_sweep.md');

describe('experiment log (Markdown)', () => {
  let vault: Vault;
  beforeAll(async () => {
    vault = await notebookVault();
  });
  afterAll(() => {
    if (vault) fs.rmSync(vault.root, { recursive: true, force: true });
  });

  it('matches the hand-written log of the notebook vault', async () => {
    const md = await experimentLog(vault, [NOTEBOOK_SPECIMEN]);
    expect(md).toBe(fs.readFileSync(EXPECTED, 'utf8'));
  });

  it('is GitHub-flavoured Markdown whose tables keep their columns', async () => {
    const md = await experimentLog(vault, [NOTEBOOK_SPECIMEN]);
    const tables = marked.lexer(md, { gfm: true }).filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables.length).toBe(6);
    for (const t of tables) for (const row of t.rows) expect(row.length).toBe(t.header.length);
    const headings = marked
      .lexer(md, { gfm: true })
      .filter((t): t is Tokens.Heading => t.type === 'heading')
      .map((h) => `${h.depth} ${h.text}`);
    expect(headings).toContain('3 Run 2: `20250301_100000` — failed');
    expect(headings).toContain('4 LR sweep');
  });

  it('is written by `specimen log --format md`, and other formats are refused', async () => {
    const ok = await runCli(['--vault', vault.root, 'log', NOTEBOOK_SPECIMEN, '--format', 'md']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(fs.readFileSync(EXPECTED, 'utf8'));
    const bad = await runCli(['--vault', vault.root, 'log', NOTEBOOK_SPECIMEN, '--format', 'rst']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be "md"');
    const missing = await runCli(['--vault', vault.root, 'log', '2025_03_01_lr_swep']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('2025_03_01_lr_sweep');
  });
});

describe('Markdown escaping', () => {
  it('escapes table pipes, emphasis and line breaks in text', () => {
    expect(mdText('a | b *c* _d_\nnext')).toBe('a \\| b \\*c\\* \\_d\\_ next');
  });
  it('fences code around backticks and escapes pipes in code', () => {
    expect(mdCode('x`y')).toBe('``x`y``');
    expect(mdCode('`start')).toBe('`` `start ``');
    expect(mdCode('a|b')).toBe('`a\\|b`');
  });
  it('demotes headings outside code fences only', () => {
    expect(demoteHeadings('# A\n```\n# not\n```\n## B', 2)).toBe('### A\n```\n# not\n```\n#### B');
  });
});

describe('failure point from stderr', () => {
  it('is the exception line after the last traceback', () => {
    const log =
      'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: first\nretry\nTraceback (most recent call last):\n  File "a.py", line 2, in f\n    g()\nKeyError: \'x\'\n';
    expect(failurePoint(log)).toBe("KeyError: 'x'");
  });
  it('is the last line naming an error without a traceback, else the last line', () => {
    expect(failurePoint('start\nError: out of memory\ncleanup done\n')).toBe('Error: out of memory');
    expect(failurePoint('one\ntwo\n\n')).toBe('two');
    expect(failurePoint('')).toBeNull();
  });
});
