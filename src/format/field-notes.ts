/**
 * Field notes as Markdown. Notes written by the earlier Python tooling use a line markup where a statement
 * starts with `●`, names an operation, and carries `|`-separated parts, each a bare value or `key:value`;
 * several statements on one line are joined by `━`:
 *
 *     ●SECTION|Observations                      → ## Observations
 *     ●LOG|2025-12-22 20:17|run:20251222_201718  → ### Log 2025-12-22 20:17   + a metadata list (run: …)
 *     ●analyze|dataset:Q4_2024_sales|groupby:region━●rank|metric:revenue
 *                                                → - **analyze** — dataset: `Q4_2024_sales` · groupby: `region`
 *                                                  - **rank** — metric: `revenue`
 *
 * `fieldNotesToMarkdown` turns such lines into headings and metadata and leaves every other line (plain
 * Markdown, fenced code) as it was, so Markdown notes come back unchanged. It is pure (no I/O), so the web
 * page, `specimen show` and reports all render notes the same way. `appendNoteEntry` builds the text after
 * `specimen note` added a dated entry.
 *
 * @example
 * fieldNotesToMarkdown('●SECTION|Results\nAccuracy 0.93\n')  // '## Results\n\nAccuracy 0.93\n'
 * appendNoteEntry('# Notes\n', 'loss spiked at 4k', new Date('2026-12-03T14:05:00Z'))
 * // '# Notes\n\n## 2026-12-03 14:05 UTC\n\nloss spiked at 4k\n'
 */

/** The character that starts a statement of the older markup. */
export const LEGACY_MARK = '●';
/** Joins several statements on one line in the older markup. */
const STATEMENT_SEPARATOR = '━';

/** One statement of the older markup: `●name|part|key:value…`. */
interface Statement {
  name: string;
  bare: string[];
  fields: [string, string][];
}

/** True when `text` has at least one line in the older markup (outside fenced code). */
export function hasLegacyMarkup(text: string): boolean {
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    fence = nextFence(fence, line);
    if (fence === undefined && isLegacyLine(line)) return true;
  }
  return false;
}

/**
 * Field notes (older markup, Markdown or a mix) as Markdown. Lines in the older markup become headings
 * (`●SECTION|name` → `## name`, `●LOG|…` → `### Log …`) and metadata lists (`key: value`); all other
 * lines, and everything inside fenced code blocks, are kept as they were (line endings become `\n`, and the
 * result ends with one newline). Text without such lines is returned unchanged apart from line endings.
 */
export function fieldNotesToMarkdown(text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n');
  if (!hasLegacyMarkup(normalized)) return normalized;
  const out: string[] = [];
  let fence: string | undefined;
  // True while `out` ends with a blank line this function added after a converted block.
  let addedBlank = false;
  // Each converted block is separated from its neighbours by a blank line, so a heading or list never runs
  // into a paragraph (Markdown would otherwise fold them together).
  const block = (lines: string[]) => {
    if (out.length > 0 && out.at(-1) !== '') out.push('');
    out.push(...lines, '');
    addedBlank = true;
  };
  for (const line of normalized.split('\n')) {
    const wasCode = fence !== undefined;
    fence = nextFence(fence, line);
    if (wasCode || fence !== undefined || !isLegacyLine(line)) {
      if (!(line === '' && addedBlank)) out.push(line);
      addedBlank = false;
      continue;
    }
    block(convertLine(line));
  }
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** The heading of a dated entry added by `specimen note`: `## YYYY-MM-DD HH:MM UTC`. */
export function noteHeading(at: Date): string {
  const iso = at.toISOString();
  return `## ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * The field notes after appending a dated entry: the old text (a missing final newline added), a blank
 * line, the `noteHeading`, a blank line and the entry text (trailing whitespace trimmed).
 */
export function appendNoteEntry(existing: string, entry: string, at: Date): string {
  const body = entry.replace(/\r\n?/g, '\n').replace(/\s+$/, '');
  let head = existing;
  if (head.length > 0 && !head.endsWith('\n')) head += '\n';
  const gap = head.length === 0 ? '' : head.endsWith('\n\n') ? '' : '\n';
  return `${head}${gap}${noteHeading(at)}\n\n${body}\n`;
}

function isLegacyLine(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith(LEGACY_MARK) && t.length > 1;
}

/** Tracks fenced code blocks (``` or ~~~, at least three): returns the open fence after `line`. */
function nextFence(open: string | undefined, line: string): string | undefined {
  const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
  if (!m) return open;
  const marker = m[1]!;
  if (open === undefined) return marker;
  return marker[0] === open[0] && marker.length >= open.length && line.trim() === marker ? undefined : open;
}

function parseStatement(raw: string): Statement | undefined {
  const body = raw.trim();
  if (!body.startsWith(LEGACY_MARK)) return undefined;
  const parts = body.slice(LEGACY_MARK.length).split('|');
  const name = parts.shift()!.trim();
  if (name === '') return undefined;
  const bare: string[] = [];
  const fields: [string, string][] = [];
  for (const p of parts) {
    const part = p.trim();
    if (part === '') continue;
    // Only the first colon separates: values hold times (`at:14:05`) and comparisons (`threshold:<avg`).
    const colon = part.indexOf(':');
    const key = colon > 0 ? part.slice(0, colon).trim() : '';
    if (colon > 0 && /^[\p{L}\p{N}_.-]+$/u.test(key)) fields.push([key, part.slice(colon + 1).trim()]);
    else bare.push(part);
  }
  return { name, bare, fields };
}

function convertLine(line: string): string[] {
  const statements = line
    .split(STATEMENT_SEPARATOR)
    .map((s) => s.trim())
    .filter(Boolean);
  const parsed = statements.map(parseStatement);
  const out: string[] = [];
  const items: string[] = [];
  const flushItems = () => {
    if (items.length === 0) return;
    if (out.length > 0) out.push('');
    out.push(...items);
    items.length = 0;
  };
  parsed.forEach((st, i) => {
    if (!st) {
      items.push(`- ${escapeText(statements[i]!)}`);
      return;
    }
    // Upper case only: the same tooling wrote lower-case operations such as `●log|tensorboard:loss`.
    const kind = st.name;
    if (kind === 'SECTION' || kind === 'LOG') {
      flushItems();
      if (out.length > 0) out.push('');
      out.push(...heading(st, kind));
      return;
    }
    items.push(`- ${statementItem(st)}`);
  });
  flushItems();
  return out;
}

/** `●SECTION|name` → `## name`; `●LOG|…` → `### Log <when>` and its other fields as a list. */
function heading(st: Statement, kind: 'SECTION' | 'LOG'): string[] {
  const fields = [...st.fields];
  let title: string;
  if (kind === 'SECTION') {
    title = st.bare.length > 0 ? st.bare.join(' ') : (takeField(fields, ['name', 'title']) ?? 'Section');
    const lines = [`## ${escapeText(title)}`];
    return fields.length > 0 ? [...lines, '', ...metadata(fields)] : lines;
  }
  const when =
    st.bare.length > 0 ? st.bare.join(' ') : takeField(fields, ['date', 'time', 'timestamp', 'at', 'when']);
  title = when ? `Log ${when}` : 'Log';
  const lines = [`### ${escapeText(title)}`];
  return fields.length > 0 ? [...lines, '', ...metadata(fields)] : lines;
}

function takeField(fields: [string, string][], names: string[]): string | undefined {
  const i = fields.findIndex(([k]) => names.includes(k.toLowerCase()));
  if (i < 0) return undefined;
  return fields.splice(i, 1)[0]![1];
}

function metadata(fields: [string, string][]): string[] {
  return fields.map(([k, v]) => `- **${escapeText(k)}:** ${code(v)}`);
}

function statementItem(st: Statement): string {
  const parts = [
    ...st.bare.map((b) => code(b)),
    ...st.fields.map(([k, v]) => `${escapeText(k)}: ${code(v)}`),
  ];
  return `**${escapeText(st.name)}**${parts.length > 0 ? ` — ${parts.join(' · ')}` : ''}`;
}

/** Text where Markdown would read its punctuation as syntax (or HTML), escaped with backslashes. */
function escapeText(s: string): string {
  // Only what can start syntax mid-line: `2024_Q3` or `2025-12-22` stay readable in a terminal.
  return s
    .replace(/[\\`*[\]<>|]/g, (c) => `\\${c}`)
    .replace(/(^|\s)_|_(?=\s|$)/g, (m) => m.replace('_', '\\_'));
}

/** A code span holding `s` as written, with a fence longer than any backtick run inside it. */
function code(s: string): string {
  if (s === '') return '""';
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}
