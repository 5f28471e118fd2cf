/**
 * `#/views`: the saved views and an editor for a new one; `#/views/<name>`: the saved view `name` reopened
 * in the editor. The editor arranges charts, tables, tensor views and text blocks for a research question,
 * previews each from the live API, and saves the view into the vault (`PUT /api/views/<name>`), after which
 * the address is the view's own link. `specimen report --view <name>` exports it.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  deleteView,
  getView,
  listViews,
  type SavedViewJson,
  saveView,
  type ViewItemJson,
} from '../../api/index.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { useData } from '../../hooks.js';
import { href, type Route } from '../../router.js';
import { emptyView, moveItem, newItem, splitList, VIEW_NAME } from './draft.js';
import { ItemPreview } from './ItemPreview.js';

const KINDS: { kind: ViewItemJson['kind']; label: string }[] = [
  { kind: 'chart', label: 'Chart' },
  { kind: 'table', label: 'Table' },
  { kind: 'tensor', label: 'Tensor' },
  { kind: 'text', label: 'Text' },
];

/** A text input that keeps what is typed and reports it parsed (lists stay editable mid-typing). */
function ListInput(props: {
  label: string;
  /** Take a whole row of the fields. */
  row?: boolean;
  value: readonly string[];
  onChange: (v: string[]) => void;
  placeholder?: string;
  testId?: string;
}) {
  const [text, setText] = useState(props.value.join(', '));
  useEffect(() => {
    if (splitList(text).join('\u0000') !== props.value.join('\u0000')) setText(props.value.join(', '));
  }, [props.value.join('\u0000')]);
  return (
    <label class={props.row ? 'row' : ''}>
      {props.label}{' '}
      <input
        class="grow"
        value={text}
        placeholder={props.placeholder}
        data-testid={props.testId}
        onInput={(e) => {
          const t = (e.target as HTMLInputElement).value;
          setText(t);
          props.onChange(splitList(t));
        }}
      />
    </label>
  );
}

function ItemEditor(props: { item: ViewItemJson; onChange: (item: ViewItemJson) => void }) {
  const { item, onChange } = props;
  const title = (
    <label>
      title{' '}
      <input
        value={item.title ?? ''}
        onInput={(e) => {
          const t = (e.target as HTMLInputElement).value;
          const { title: _old, ...rest } = item;
          onChange((t ? { ...rest, title: t } : rest) as ViewItemJson);
        }}
      />
    </label>
  );
  switch (item.kind) {
    case 'chart':
      return (
        <div class="view-fields">
          <ListInput
            label="metrics"
            row
            value={item.metrics}
            onChange={(metrics) => onChange({ ...item, metrics })}
            placeholder="loss, accuracy"
            testId="item-metrics"
          />
          <ListInput
            label="runs"
            row
            value={item.runs ?? []}
            onChange={(runs) =>
              onChange(runs.length > 0 ? { ...item, runs } : (({ runs: _r, ...rest }) => rest)(item))
            }
            placeholder="the view's runs"
          />
          <label>
            x{' '}
            <input
              value={item.x}
              onInput={(e) => onChange({ ...item, x: (e.target as HTMLInputElement).value || 'step' })}
            />
          </label>
          <ListInput
            label="group by"
            value={item.group_by}
            onChange={(group_by) => onChange({ ...item, group_by })}
            placeholder="config keys"
          />
          <label>
            <input
              type="checkbox"
              checked={item.log}
              onChange={() => onChange({ ...item, log: !item.log })}
            />{' '}
            log scale
          </label>
          {title}
        </div>
      );
    case 'table':
      return (
        <div class="view-fields">
          <label>
            from{' '}
            <select
              value={'sql' in item ? 'sql' : 'runs'}
              data-testid="item-table-source"
              onChange={(e) => {
                const base = item.title ? { title: item.title } : {};
                onChange(
                  (e.target as HTMLSelectElement).value === 'sql'
                    ? { kind: 'table', ...base, sql: (newItem('table') as { sql: string }).sql }
                    : { kind: 'table', ...base, runs: [] },
                );
              }}
            >
              <option value="sql">SQL query</option>
              <option value="runs">runs</option>
            </select>
          </label>
          {'sql' in item ? (
            <textarea
              class="mono grow"
              rows={3}
              value={item.sql}
              data-testid="item-sql"
              onInput={(e) => onChange({ ...item, sql: (e.target as HTMLTextAreaElement).value })}
            />
          ) : (
            <ListInput label="runs" row value={item.runs} onChange={(runs) => onChange({ ...item, runs })} />
          )}
          {title}
        </div>
      );
    case 'tensor':
      return (
        <div class="view-fields">
          <label>
            run{' '}
            <input
              value={item.run}
              placeholder="specimen/run"
              data-testid="item-tensor-run"
              onInput={(e) => onChange({ ...item, run: (e.target as HTMLInputElement).value.trim() })}
            />
          </label>
          <label>
            tensor{' '}
            <input
              value={item.tensor}
              data-testid="item-tensor-name"
              onInput={(e) => onChange({ ...item, tensor: (e.target as HTMLInputElement).value.trim() })}
            />
          </label>
          <ListInput
            label="leading indices"
            value={item.index.map(String)}
            onChange={(v) =>
              onChange({ ...item, index: v.map(Number).filter((n) => Number.isInteger(n) && n >= 0) })
            }
            placeholder="0"
          />
          {title}
        </div>
      );
    case 'text':
      return (
        <div class="view-fields">
          <textarea
            class="grow"
            rows={4}
            value={item.markdown}
            placeholder="Markdown"
            data-testid="item-markdown"
            onInput={(e) => onChange({ ...item, markdown: (e.target as HTMLTextAreaElement).value })}
          />
          {title}
        </div>
      );
  }
}

function ViewList({ current, version }: { current: string | undefined; version: number }) {
  const { data, error } = useData(`views:${version}`, listViews);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="views" />;
  return (
    <Card title={`Saved views (${data.views.length})`}>
      {data.views.length === 0 ? <p class="muted">No view saved yet.</p> : null}
      <ul class="view-list" data-testid="view-list">
        {data.views.map((v) => (
          <li key={v.name} class={v.name === current ? 'active' : ''}>
            <a href={href(['views', v.name])} class="mono">
              {v.name}
            </a>{' '}
            {v.title ?? <span class="error">{v.error}</span>}{' '}
            <span class="muted small">({v.items} items)</span>
          </li>
        ))}
      </ul>
      <a href={href(['views'])} data-testid="view-new">
        + New view
      </a>
    </Card>
  );
}

function Editor({
  name: savedName,
  initial,
  onSaved,
  justSaved,
}: {
  name: string | undefined;
  initial: SavedViewJson;
  onSaved: (name: string | null) => void;
  /** The view saved last in this page, whose confirmation stays shown after the address changes. */
  justSaved: string | null;
}) {
  const [view, setView] = useState<SavedViewJson>(initial);
  const [name, setName] = useState(savedName ?? '');
  const [error, setError] = useState<unknown>(undefined);
  const setItem = (i: number, item: ViewItemJson) =>
    setView({ ...view, items: view.items.map((x, j) => (j === i ? item : x)) });
  const nameOk = VIEW_NAME.test(name);

  const save = async () => {
    setError(undefined);
    try {
      await saveView(name, view);
      onSaved(name);
      if (name !== savedName) location.hash = href(['views', name]);
    } catch (err) {
      onSaved(null);
      setError(err);
    }
  };
  const remove = async () => {
    if (!savedName || !confirm(`Delete the view ${savedName}?`)) return;
    try {
      await deleteView(savedName);
      onSaved(null);
      location.hash = href(['views']);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div data-testid="view-editor">
      <Card
        title={savedName ? `View ${savedName}` : 'New view'}
        actions={
          <>
            <button
              type="button"
              onClick={save}
              disabled={!nameOk || view.title === ''}
              data-testid="view-save"
            >
              Save
            </button>
            {savedName ? (
              <button type="button" onClick={remove} data-testid="view-delete">
                Delete
              </button>
            ) : null}
          </>
        }
      >
        <div class="view-fields">
          <label>
            name{' '}
            <input
              value={name}
              placeholder="turns"
              data-testid="view-name"
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </label>
          <label class="row">
            question / title{' '}
            <input
              class="grow"
              value={view.title}
              data-testid="view-title"
              onInput={(e) => setView({ ...view, title: (e.target as HTMLInputElement).value })}
            />
          </label>
          <ListInput
            label="runs"
            row
            value={view.runs}
            onChange={(runs) => setView({ ...view, runs })}
            placeholder="specimen IDs or specimen/run"
            testId="view-runs"
          />
        </div>
        {!nameOk && name !== '' ? (
          <p class="error small">A name is 1–64 lower-case letters, digits, - or _.</p>
        ) : null}
        {justSaved !== null && justSaved === name ? (
          <p class="small" data-testid="view-status">
            Saved as views/{name}.json. Export it with{' '}
            <code>
              specimen report --view {name} --out {name}.html
            </code>
            .
          </p>
        ) : null}
        <ErrorBox error={error} />
        <div class="view-add">
          Add:{' '}
          {KINDS.map((k) => (
            <button
              key={k.kind}
              type="button"
              data-testid={`add-${k.kind}`}
              onClick={() => setView({ ...view, items: [...view.items, newItem(k.kind)] })}
            >
              + {k.label}
            </button>
          ))}
        </div>
      </Card>
      {view.items.map((item, i) => (
        <Card
          key={i}
          title={`${i + 1}. ${item.title ?? item.kind}`}
          actions={
            <>
              <button
                type="button"
                title="move up"
                disabled={i === 0}
                onClick={() => setView({ ...view, items: moveItem(view.items, i, -1) })}
              >
                ↑
              </button>
              <button
                type="button"
                title="move down"
                disabled={i === view.items.length - 1}
                onClick={() => setView({ ...view, items: moveItem(view.items, i, 1) })}
              >
                ↓
              </button>
              <button
                type="button"
                title="remove"
                onClick={() => setView({ ...view, items: view.items.filter((_, j) => j !== i) })}
              >
                ✕
              </button>
            </>
          }
        >
          <div data-testid="view-item" data-kind={item.kind}>
            <ItemEditor item={item} onChange={(x) => setItem(i, x)} />
            <ItemPreview item={item} view={view} />
          </div>
        </Card>
      ))}
    </div>
  );
}

function SavedEditor({
  name,
  onSaved,
  justSaved,
}: {
  name: string;
  onSaved: (name: string | null) => void;
  justSaved: string | null;
}) {
  const { data, error } = useData(`view:${name}`, (signal) => getView(name, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="view" />;
  return <Editor key={name} name={name} initial={data.view} onSaved={onSaved} justSaved={justSaved} />;
}

export function ViewsPage({ route }: { route: Route }) {
  const name = route.path[1];
  const [version, setVersion] = useState(0);
  const [justSaved, setJustSaved] = useState<string | null>(null);
  const onSaved = (saved: string | null) => {
    setJustSaved(saved);
    setVersion((v) => v + 1);
  };
  return (
    <div class="page views-page">
      <ViewList current={name} version={version} />
      {name ? (
        <SavedEditor name={name} onSaved={onSaved} justSaved={justSaved} />
      ) : (
        <Editor key="new" name={undefined} initial={emptyView()} onSaved={onSaved} justSaved={justSaved} />
      )}
    </div>
  );
}
