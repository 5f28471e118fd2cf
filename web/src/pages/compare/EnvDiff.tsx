/**
 * The compare page's code, environment and dependencies table: the keys whose values differ between the
 * runs (git commit and uncommitted changes, command, host, runtimes, package versions), as the server's
 * compare response lists them — `specimen diff` prints the same for two runs. Each kept code file that
 * differs (`code file <name>`) links to its unified diff, from the first run to every run whose copy
 * differs, shown under the table.
 */
import { useState } from 'preact/hooks';
import { type CompareResponse, getCodeDiff, runRef } from '../../api/index.js';
import { UnifiedDiff } from '../../components/CodeText.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { fmtValue } from '../../format.js';
import { useData } from '../../hooks.js';
import { RunHeaderCells } from './RunHeaderCells.js';
import { runNames } from './run-label.js';

const CODE_FILE = 'code file ';

/** One kept file's diff from run `a` to run `b` (references), as the server makes it. */
function CodeFileDiff(props: { a: string; b: string; file: string; label: string }) {
  const { a, b, file } = props;
  const { data, error } = useData(`code-diff:${a}|${b}|${file}`, (signal) => getCodeDiff(a, b, file, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what={`diff of ${file}`} />;
  return (
    <div data-testid="code-diff" data-file={file}>
      <div class="muted small">
        <span class="mono">{file}</span>: {props.label}
        {data.truncated ? ' (cut at 1 MB)' : ''}
      </div>
      {data.same ? <p class="muted">Same text.</p> : <UnifiedDiff patch={data.patch} />}
    </div>
  );
}

export function EnvDiff({ data, refs }: { data: CompareResponse; refs: string[] }) {
  const names = runNames(data.runs);
  const rows = data.differences;
  const [open, setOpen] = useState<string | null>(null);
  const label = (ref: string) => names.get(ref) ?? ref;
  // The differences' values are in the order of the response's runs.
  const order = data.runs.map(runRef);
  const openRow = rows.find((d) => d.section === 'code' && d.key === `${CODE_FILE}${open}`);
  return (
    <Card title={`Code, environment and dependencies (${rows.length} differ)`}>
      {rows.length === 0 ? (
        <p class="muted">
          {data.runs.length < 2
            ? 'Pick two runs or more to see what differs.'
            : 'Same code, environment and dependencies as recorded in every run.'}
        </p>
      ) : (
        <div class="scroll-x">
          <table class="grid" data-testid="env-diff">
            <thead>
              <tr>
                <th>Section</th>
                <th>Key</th>
                <RunHeaderCells runs={data.runs} refs={refs} names={names} />
              </tr>
            </thead>
            <tbody>
              {rows.map((d, i) => (
                <tr
                  key={`${d.section}/${d.key}`}
                  class={i > 0 && rows[i - 1]!.section !== d.section ? 'group-start' : ''}
                >
                  <td class="muted">{i === 0 || rows[i - 1]!.section !== d.section ? d.section : ''}</td>
                  <td class="mono">
                    {d.key}
                    {d.section === 'code' && d.key.startsWith(CODE_FILE) ? (
                      <button
                        type="button"
                        class="link"
                        data-testid="code-diff-link"
                        onClick={() => {
                          const file = d.key.slice(CODE_FILE.length);
                          setOpen(open === file ? null : file);
                        }}
                      >
                        {open === d.key.slice(CODE_FILE.length) ? 'hide diff' : 'diff'}
                      </button>
                    ) : null}
                  </td>
                  {d.values.map((v, j) => (
                    <td key={j} class="mono">
                      {v === null ? '–' : fmtValue(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {open !== null && openRow
            ? refs
                .slice(1)
                .map((ref, j) =>
                  openRow.values[j + 1] === openRow.values[0] ? null : (
                    <CodeFileDiff
                      key={ref}
                      a={order[0]!}
                      b={ref}
                      file={open}
                      label={`${label(order[0]!)} → ${label(ref)}`}
                    />
                  ),
                )
            : null}
        </div>
      )}
    </Card>
  );
}
