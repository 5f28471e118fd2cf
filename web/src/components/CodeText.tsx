/**
 * Code as text: a file with line numbers (`CodeLines`) and a unified diff with its added, removed, hunk and
 * header lines coloured (`UnifiedDiff`). Text only, rendered as text nodes (never as HTML).
 *
 * @example
 * <CodeLines text={file.text} />
 * <UnifiedDiff patch={diff.patch} />
 */

/** The text's lines (a final newline ends the last line rather than starting an empty one). */
function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** A file with line numbers, monospace, scrolling inside its box. */
export function CodeLines({ text, testId = 'code-lines' }: { text: string; testId?: string }) {
  const lines = linesOf(text);
  return (
    <div class="code-box" data-testid={testId}>
      <table class="code-lines">
        <tbody>
          {lines.map((l, i) => (
            <tr key={i}>
              <td class="ln">{i + 1}</td>
              <td class="src">{l}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The class of a unified diff line: file headers, hunk headers, additions, removals, context. */
function diffClass(line: string): string {
  if (
    line.startsWith('+++') ||
    line.startsWith('---') ||
    line.startsWith('diff ') ||
    line.startsWith('index ')
  )
    return 'd-head';
  if (line.startsWith('@@')) return 'd-hunk';
  if (line.startsWith('+')) return 'd-add';
  if (line.startsWith('-')) return 'd-del';
  if (line.startsWith('=')) return 'd-head';
  return 'd-ctx';
}

/** A unified diff, one coloured line per line of the patch. */
export function UnifiedDiff({ patch, testId = 'unified-diff' }: { patch: string; testId?: string }) {
  return (
    <div class="code-box" data-testid={testId}>
      <pre class="diff">
        {linesOf(patch).map((l, i) => (
          <div key={i} class={diffClass(l)}>
            {l === '' ? ' ' : l}
          </div>
        ))}
      </pre>
    </div>
  );
}
