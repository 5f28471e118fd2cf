/**
 * The code kept with a run (`runs/<id>/code/`): its files with size and short sha256; a click opens one
 * below the list, with line numbers (`git.diff` as a coloured unified diff); the untracked files and the
 * files that were not kept, each with the reason. Nothing at all when the run kept no code.
 *
 * @example
 * <CodeCard specimenId="2025_01_02_x" runId="20250102_101010" version="sealed" />
 */
import { useState } from 'preact/hooks';
import { getRunCode, getRunCodeFile } from '../../api/index.js';
import { CodeLines, UnifiedDiff } from '../../components/CodeText.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { fmtBytes } from '../../format.js';
import { useData } from '../../hooks.js';

const GIT_DIFF = 'git.diff';

function CodeFile(props: { specimenId: string; runId: string; name: string }) {
  const { specimenId, runId, name } = props;
  const { data, error } = useData(`code-file:${specimenId}/${runId}/${name}`, (signal) =>
    getRunCodeFile(specimenId, runId, name, signal),
  );
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what={name} />;
  return (
    <div data-testid="code-view" data-file={name}>
      <div class="muted small">
        <span class="mono">{name}</span> · {fmtBytes(data.bytes)}
        {data.truncated ? ' · cut at 1 MB' : ''}
      </div>
      {name === GIT_DIFF ? <UnifiedDiff patch={data.text} /> : <CodeLines text={data.text} />}
    </div>
  );
}

export function CodeCard(props: { specimenId: string; runId: string; version: string }) {
  const { specimenId, runId } = props;
  const { data, error } = useData(`code:${specimenId}/${runId}/${props.version}`, (signal) =>
    getRunCode(specimenId, runId, signal),
  );
  const [open, setOpen] = useState<string | null>(null);
  if (error) return <ErrorBox error={error} />;
  if (!data || (data.files.length === 0 && data.skipped.length === 0)) return null;
  const shown = open !== null && data.files.some((f) => f.name === open) ? open : null;
  return (
    <Card title={<span data-testid="code-heading">{`Code (${data.files.length} kept)`}</span>}>
      {data.files.length > 0 ? (
        <table class="grid code-files" data-testid="code-files">
          <thead>
            <tr>
              <th>File</th>
              <th class="right">Size</th>
              <th>sha256</th>
            </tr>
          </thead>
          <tbody>
            {data.files.map((f) => (
              <tr key={f.name} class={f.name === shown ? 'selected' : ''}>
                <td>
                  <button
                    type="button"
                    class="link"
                    data-testid="code-file"
                    onClick={() => setOpen(f.name === shown ? null : f.name)}
                  >
                    {f.name}
                  </button>
                </td>
                <td class="right">{fmtBytes(f.bytes)}</td>
                <td class="mono" title={f.sha256}>
                  {f.sha256.slice(0, 12)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {shown ? <CodeFile specimenId={specimenId} runId={runId} name={shown} /> : null}
      {data.untracked.length > 0 ? (
        <div data-testid="code-untracked">
          <h3>Untracked files (names only, not kept)</h3>
          <ul class="mono small">
            {data.untracked.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {data.skipped.length > 0 ? (
        <div data-testid="code-skipped">
          <h3>Not kept</h3>
          <ul class="small">
            {data.skipped.map((s) => (
              <li key={s.file}>
                <span class="mono">{s.file}</span> — {s.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </Card>
  );
}
