/**
 * The compare page's code, environment and dependencies table: the keys whose values differ between the
 * runs (git commit and uncommitted changes, command, host, runtimes, package versions), as the server's
 * compare response lists them — `specimen diff` prints the same for two runs.
 */
import type { CompareResponse } from '../../api/index.js';
import { Card } from '../../components/common.js';
import { fmtValue } from '../../format.js';
import { RunHeaderCells } from './RunHeaderCells.js';
import { runNames } from './run-label.js';

export function EnvDiff({ data, refs }: { data: CompareResponse; refs: string[] }) {
  const names = runNames(data.runs);
  const rows = data.differences;
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
                  <td class="mono">{d.key}</td>
                  {d.values.map((v, j) => (
                    <td key={j} class="mono">
                      {v === null ? '–' : fmtValue(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
