// Field notes to Markdown: the older `●` markup (as the reference vault wrote it) becomes headings and
// metadata; plain Markdown is left alone; dated entries appended by `specimen note`.
import path from 'node:path';
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import {
  appendNoteEntry,
  fieldNotesToMarkdown,
  hasLegacyMarkup,
  noteHeading,
} from '../../../src/format/field-notes.js';
import { readParquetTable } from '../../../src/storage/metrics/index.js';
import { REFERENCE_VAULT } from '../../support/helpers.js';

/** The markup strings the reference vault's Python tooling wrote (the `vn_text` column of its results). */
async function referenceStatements(): Promise<string[]> {
  const file = path.join(
    REFERENCE_VAULT,
    'specimens/2025_12_22_vn_comprehensive_experiments/runs/20251222_201718/metrics.parquet',
  );
  const table = await readParquetTable([file]);
  const col = table.getChild('vn_text')!;
  const out: string[] = [];
  for (let i = 0; i < table.numRows; i++) out.push(String(col.get(i)));
  return out;
}

const html = (md: string) => marked.parse(md, { async: false, gfm: true }) as string;

describe('fieldNotesToMarkdown', () => {
  it('turns SECTION lines into headings and LOG headers into a heading with metadata', () => {
    const notes = [
      '# 2025_12_22_vn_comprehensive_experiments',
      '●SECTION|Purpose',
      'Compare natural-language and VN prompts.',
      '●LOG|2025-12-22 20:17|run:20251222_201718|device:mps|model:gemma-2-2b',
      'Purity improved on every category.',
      '●SECTION|Results',
      '',
      'See `specimen show`.',
      '',
    ].join('\n');
    expect(fieldNotesToMarkdown(notes)).toBe(
      [
        '# 2025_12_22_vn_comprehensive_experiments',
        '',
        '## Purpose',
        '',
        'Compare natural-language and VN prompts.',
        '',
        '### Log 2025-12-22 20:17',
        '',
        '- **run:** `20251222_201718`',
        '- **device:** `mps`',
        '- **model:** `gemma-2-2b`',
        '',
        'Purity improved on every category.',
        '',
        '## Results',
        '',
        'See `specimen show`.',
        '',
      ].join('\n'),
    );
    const rendered = html(fieldNotesToMarkdown(notes));
    expect(rendered).toContain('<h2>Purpose</h2>');
    expect(rendered).toContain('<h3>Log 2025-12-22 20:17</h3>');
    expect(rendered).toContain('<li><strong>device:</strong> <code>mps</code></li>');
    expect(rendered).not.toContain('●');
  });

  it('takes a LOG title from a date field and a SECTION name from name=', () => {
    expect(fieldNotesToMarkdown('●LOG|date:2025-12-22|status:ok\n●SECTION|name:Next steps\n')).toBe(
      '### Log 2025-12-22\n\n- **status:** `ok`\n\n## Next steps\n',
    );
    expect(fieldNotesToMarkdown('●LOG\n')).toBe('### Log\n');
    // Lower case is an operation like any other (the reference vault has `●log|tensorboard:…`).
    expect(fieldNotesToMarkdown('●log|tensorboard:loss\n')).toBe('- **log** — tensorboard: `loss`\n');
  });

  it('renders every statement the reference vault wrote as metadata, never as raw markup', async () => {
    const statements = await referenceStatements();
    expect(statements.length).toBe(75);
    for (const s of statements) {
      expect(hasLegacyMarkup(s)).toBe(true);
      const md = fieldNotesToMarkdown(s);
      const out = html(md);
      // Each `━`-joined statement is one list item naming its operation in bold.
      const items = s.split('━').length;
      expect(out.match(/<li>/g)?.length, s).toBe(items);
      expect(out.match(/<strong>/g)?.length, s).toBe(items);
      expect(out, s).not.toContain('●');
      expect(out, s).not.toContain('|');
      // Every value survives, verbatim, inside a code span.
      for (const part of s.split('━').flatMap((st) => st.split('|').slice(1))) {
        const value = part.slice(part.indexOf(':') + 1);
        const escaped = value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
        expect(out, s).toContain(`<code>${escaped}</code>`);
      }
    }
    expect(fieldNotesToMarkdown(statements[0]!)).toBe(
      '- **query** — metric: `sales` · period: `2024_Q3` · aggregate: `sum`\n',
    );
  });

  it('keeps comparisons and times in values and escapes what Markdown would read as syntax', () => {
    const md = fieldNotesToMarkdown(
      '●identify|threshold:<avg_growth|at:14:05|note:`x`\n●SECTION|<b>bold</b> *x*\n',
    );
    expect(md).toBe(
      '- **identify** — threshold: `<avg_growth` · at: `14:05` · note: `` `x` ``\n\n## \\<b\\>bold\\</b\\> \\*x\\*\n',
    );
    const out = html(md);
    expect(out).toContain('<code>&lt;avg_growth</code>');
    expect(out).not.toContain('<b>');
    expect(out).toContain('<h2>&lt;b&gt;bold&lt;/b&gt; *x*</h2>');
  });

  it('leaves Markdown notes unchanged, and markup inside fenced code alone', () => {
    const md = '# Notes\n\n## Purpose\n\n\n- a\n- b\n\n```\nx\n```\n';
    expect(fieldNotesToMarkdown(md)).toBe(md);
    expect(hasLegacyMarkup(md)).toBe(false);
    const fenced = '```text\n●SECTION|inside\n```\n●SECTION|outside\n';
    expect(fieldNotesToMarkdown(fenced)).toBe('```text\n●SECTION|inside\n```\n\n## outside\n');
    expect(fieldNotesToMarkdown('a\r\nb\r\n')).toBe('a\nb\n');
    expect(fieldNotesToMarkdown('')).toBe('');
  });
});

describe('dated entries', () => {
  const at = new Date('2026-12-03T14:05:59Z');

  it('heads an entry with the UTC date and minute', () => {
    expect(noteHeading(at)).toBe('## 2026-12-03 14:05 UTC');
  });

  it('appends after the existing notes with one blank line between', () => {
    expect(appendNoteEntry('# Notes', 'loss spiked\n\n', at)).toBe(
      '# Notes\n\n## 2026-12-03 14:05 UTC\n\nloss spiked\n',
    );
    expect(appendNoteEntry('# Notes\n\n', 'x', at)).toBe('# Notes\n\n## 2026-12-03 14:05 UTC\n\nx\n');
    expect(appendNoteEntry('', 'first\r\nline', at)).toBe('## 2026-12-03 14:05 UTC\n\nfirst\nline\n');
  });
});
