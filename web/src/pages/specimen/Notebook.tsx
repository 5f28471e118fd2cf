/**
 * The lab notebook on the specimen page: status, hypothesis, expected results, conclusion and tags, and the
 * field notes, each shown and editable in place. Saving sends one same-origin JSON request
 * (`PATCH /api/specimens/:id`, `PUT /api/specimens/:id/notes`); the server validates, writes atomically
 * and indexes, and the page then reloads the specimen. Notes are saved against the hash they were loaded
 * with, so an entry added meanwhile (`specimen note`, another tab) is never overwritten.
 */
import { useState } from 'preact/hooks';
import {
  addNoteEntry,
  isRequestError,
  patchSpecimen,
  putFieldNotes,
  type SpecimenResponse,
} from '../../api/index.js';
import { Card, ErrorBox, StatusBadge, Tag } from '../../components/common.js';
import { Markdown } from '../../components/Markdown.js';
import { href } from '../../router.js';

/** The statuses a user can pick (docs/format.md, lifecycle); `planned` only before the first run. */
const STATUSES = ['planned', 'active', 'concluded', 'archived', 'deprecated'] as const;
/** The server's tag rule (src/storage/notebook.ts TAG_PATTERN), checked here too for a message at once. */
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_.:/+-]{0,63}$/u;

const LAB_FIELDS = [
  ['hypothesis', 'Hypothesis'],
  ['expected_results', 'Expected results'],
  ['conclusion', 'Conclusion'],
] as const;
type LabKey = (typeof LAB_FIELDS)[number][0];

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function LabNotebook({ data, onSaved }: { data: SpecimenResponse; onSaved: () => void }) {
  const m = data.manifest as Record<string, unknown>;
  const tags = ((m.tags as string[] | undefined) ?? []).filter((t) => typeof t === 'string');
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Record<LabKey, string> & { status: string; tags: string }>({
    hypothesis: '',
    expected_results: '',
    conclusion: '',
    status: data.status,
    tags: '',
  });
  const [error, setError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);

  const start = () => {
    setDraft({
      hypothesis: text(m.hypothesis),
      expected_results: text(m.expected_results),
      conclusion: text(m.conclusion),
      status: data.status,
      tags: tags.join(', '),
    });
    setError(undefined);
    setEditing(true);
  };
  const save = async () => {
    const nextTags = draft.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const bad = nextTags.find((t) => !TAG_PATTERN.test(t));
    if (bad !== undefined) {
      setError(
        new Error(`"${bad}" is not a tag: a letter or digit, then letters, digits, _ . : / + - (at most 64)`),
      );
      return;
    }
    // Only what changed is sent: an unchanged status is not re-checked against the lifecycle.
    const patch: Record<string, unknown> = {};
    for (const [k] of LAB_FIELDS) if (draft[k] !== text(m[k])) patch[k] = draft[k];
    if (draft.status !== data.status) patch.status = draft.status;
    if (nextTags.join('\u0000') !== tags.join('\u0000')) patch.tags = nextTags;
    if (Object.keys(patch).length === 0) {
      setEditing(false);
      return;
    }
    setSaving(true);
    try {
      await patchSpecimen(data.specimen_id, patch);
      setEditing(false);
      setError(undefined);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  const hasRuns = data.runs.length > 0;
  return (
    <Card
      title={
        <span>
          Lab notebook <StatusBadge status={data.status} />
        </span>
      }
      actions={
        editing ? null : (
          <button type="button" data-testid="edit-notebook" onClick={start}>
            Edit
          </button>
        )
      }
    >
      <div data-testid="lab-notebook">
        {editing ? (
          <form
            class="notebook-form"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label>
              Status
              <select
                data-testid="edit-status"
                value={draft.status}
                onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}
              >
                {STATUSES.map((s) => (
                  <option key={s} value={s} disabled={s === 'planned' && hasRuns}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            {LAB_FIELDS.map(([k, label]) => (
              <label key={k}>
                {label}
                <textarea
                  data-testid={`edit-${k}`}
                  rows={3}
                  maxLength={20_000}
                  value={draft[k]}
                  onInput={(e) => setDraft({ ...draft, [k]: (e.target as HTMLTextAreaElement).value })}
                />
              </label>
            ))}
            <label>
              Tags (comma-separated)
              <input
                type="text"
                data-testid="edit-tags"
                value={draft.tags}
                onInput={(e) => setDraft({ ...draft, tags: (e.target as HTMLInputElement).value })}
              />
            </label>
            <ErrorBox error={error} />
            <div class="form-actions">
              <button type="submit" class="primary" disabled={saving} data-testid="save-notebook">
                {saving ? 'Saving…' : 'Save'}
              </button>
              <button type="button" disabled={saving} onClick={() => setEditing(false)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <div class="notebook-view">
            {data.status === 'planned' ? (
              <p class="muted" data-testid="planned-note">
                Planned: no run yet. It becomes active with its first run (
                <code>specimen run {data.specimen_id}</code>).
              </p>
            ) : null}
            {LAB_FIELDS.map(([k, label]) => (
              <div key={k} class="lab-field">
                <h4>{label}</h4>
                {text(m[k]) ? (
                  <p class="pre" data-testid={`lab-${k}`}>
                    {text(m[k])}
                  </p>
                ) : (
                  <p class="muted">–</p>
                )}
              </div>
            ))}
            <div class="tags">
              {tags.map((t) => (
                <Tag key={t} name={t} href={href([], { tag: t })} />
              ))}
            </div>
          </div>
        )}
      </div>
    </Card>
  );
}

/** A dated entry added below the notes, as `specimen note` does. */
function NewEntry({ specimenId, onSaved }: { specimenId: string; onSaved: () => void }) {
  const [entry, setEntry] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const add = async () => {
    setSaving(true);
    try {
      await addNoteEntry(specimenId, entry);
      setEntry('');
      setError(undefined);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form
      class="notebook-form new-entry"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <label>
        New dated entry
        <textarea
          data-testid="new-entry"
          rows={2}
          value={entry}
          placeholder="What you saw; it is added under today's date and time (UTC)"
          onInput={(e) => setEntry((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <ErrorBox error={error} />
      <div class="form-actions">
        <button type="submit" disabled={saving || entry.trim() === ''} data-testid="add-entry">
          {saving ? 'Adding…' : 'Add entry'}
        </button>
      </div>
    </form>
  );
}

export function FieldNotes({ data, onSaved }: { data: SpecimenResponse; onSaved: () => void }) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const save = async () => {
    if (draft === undefined) return;
    setSaving(true);
    try {
      await putFieldNotes(data.specimen_id, { text: draft, base_sha256: data.field_notes_sha256 });
      setDraft(undefined);
      setError(undefined);
      onSaved();
    } catch (err) {
      setError(
        isRequestError(err, 'Conflict')
          ? new Error(`${err.message}. Your text is still here: copy it, then reload the page.`)
          : err,
      );
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card
      title="Field notes"
      actions={
        draft === undefined ? (
          <button
            type="button"
            data-testid="edit-notes"
            disabled={data.field_notes_truncated}
            title={
              data.field_notes_truncated ? 'too large to edit here: edit field_notes.md in a text editor' : ''
            }
            onClick={() => {
              setDraft(data.field_notes ?? '');
              setError(undefined);
            }}
          >
            Edit
          </button>
        ) : null
      }
    >
      {draft !== undefined ? (
        <form
          class="notebook-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <textarea
            data-testid="notes-editor"
            class="notes-editor"
            rows={18}
            value={draft}
            onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
          />
          <ErrorBox error={error} />
          <div class="form-actions">
            <button type="submit" class="primary" disabled={saving} data-testid="save-notes">
              {saving ? 'Saving…' : 'Save notes'}
            </button>
            <button type="button" disabled={saving} onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          {data.field_notes_markdown ? (
            <div data-testid="field-notes">
              {data.field_notes_truncated ? <p class="muted">Shown cut short (over 200 kB).</p> : null}
              <Markdown text={data.field_notes_markdown} />
            </div>
          ) : (
            <p class="muted">No field_notes.md.</p>
          )}
          <NewEntry specimenId={data.specimen_id} onSaved={onSaved} />
        </>
      )}
    </Card>
  );
}
