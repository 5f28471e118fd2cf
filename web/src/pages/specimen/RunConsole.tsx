/**
 * A run's console on the specimen page: its stdout and stderr, the last 64 kB first, then — while the run
 * is live — what is new every 2 s, asked from the byte offset where the last answer ended (only new output
 * is read). A failed run's traceback (from its manifest's `error`) is shown above, open at once. A run
 * staged in pending/ is read the same way through its own route.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getLogs, getPendingLogs } from '../../api/index.js';
import { Card, ErrorBox } from '../../components/common.js';

const POLL_MS = 2000;
/** Text kept on screen per stream: older output is dropped from the top. */
const MAX_CHARS = 512 * 1024;

type Stream = 'stdout' | 'stderr';

/** The text of one stream, followed from its offset while `live` (of a staged run when `pending`). */
function useLog(specimenId: string, runId: string, stream: Stream, live: boolean, pending: boolean) {
  const [state, setState] = useState<{ text: string; exists: boolean; error: unknown }>({
    text: '',
    exists: false,
    error: undefined,
  });
  const offset = useRef<number | undefined>(undefined);
  const liveRef = useRef(live);
  liveRef.current = live;
  useEffect(() => {
    offset.current = undefined;
    setState({ text: '', exists: false, error: undefined });
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A run that is not live is read once; one that ends is read once more, for what it printed last.
    let last = !liveRef.current;
    const poll = async () => {
      try {
        const r = await (pending ? getPendingLogs : getLogs)(
          specimenId,
          runId,
          stream,
          offset.current,
          ac.signal,
        );
        // A file that was rewritten (shorter than what was read) starts over.
        const restart = offset.current !== undefined && r.offset < offset.current;
        offset.current = r.next_offset;
        setState((s) => {
          const text = restart ? r.text : s.text + r.text;
          return {
            exists: r.exists,
            error: undefined,
            text: text.length > MAX_CHARS ? text.slice(-MAX_CHARS) : text,
          };
        });
        // More than one page was waiting: ask again at once.
        if (r.next_offset < r.size && !ac.signal.aborted) return void poll();
      } catch (error) {
        if (ac.signal.aborted) return;
        setState((s) => ({ ...s, error }));
      }
      if (ac.signal.aborted || last) return;
      if (!liveRef.current) last = true;
      timer = setTimeout(poll, liveRef.current ? POLL_MS : 0);
    };
    void poll();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [specimenId, runId, stream, pending]);
  return state;
}

export function RunConsole({
  specimenId,
  runId,
  live,
  error,
  pending = false,
}: {
  specimenId: string;
  /** The run ID, or a staged run's stage name with `pending`. */
  runId: string;
  live: boolean;
  /** A run staged in pending/, not sealed yet: its console is read through the pending routes. */
  pending?: boolean;
  /** The manifest's `error` of a failed run, if any. */
  error: { type?: unknown; message?: unknown; traceback?: unknown } | null;
}) {
  const stdout = useLog(specimenId, runId, 'stdout', live, pending);
  const stderr = useLog(specimenId, runId, 'stderr', live, pending);
  const [tab, setTab] = useState<Stream | undefined>(undefined);
  // stderr first when only it has output, or when the run failed.
  const shown: Stream = tab ?? (error || (!stdout.text && stderr.text) ? 'stderr' : 'stdout');
  const current = shown === 'stdout' ? stdout : stderr;
  const box = useRef<HTMLPreElement>(null);
  // Follow the end while the reader has not scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 40) el.scrollTop = el.scrollHeight;
  }, [current.text]);
  const traceback = error && typeof error.traceback === 'string' ? error.traceback : null;
  return (
    <Card
      title={<span data-testid="console-heading">Console</span>}
      actions={
        <span class="tabs">
          {(['stdout', 'stderr'] as const).map((s) => (
            <button
              key={s}
              type="button"
              class={s === shown ? 'tab active' : 'tab'}
              onClick={() => setTab(s)}
              data-testid={`console-tab-${s}`}
            >
              {s}
            </button>
          ))}
        </span>
      }
    >
      {error ? (
        <div class="run-error" data-testid="run-error">
          <b>
            {String(error.type ?? 'Error')}: {String(error.message ?? '')}
          </b>
          {traceback ? <pre class="log traceback">{traceback}</pre> : null}
        </div>
      ) : null}
      <ErrorBox error={current.error} />
      {current.exists || current.text ? (
        <pre class="log" ref={box} data-testid={`console-${shown}`}>
          {current.text}
        </pre>
      ) : (
        <p class="muted">{live ? `Nothing on ${shown} yet.` : `No ${shown} was recorded.`}</p>
      )}
    </Card>
  );
}
