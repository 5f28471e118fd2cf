/**
 * Hooks shared by the pages: data loaded per key (aborted when the key changes, polled while live), the
 * last value kept on screen while the next one loads, and a chart's series from the series route.
 *
 * @example
 * const { data, error } = useData(`run:${id}/${run}`, (signal) => getRun(id, run, signal))
 * const shown = useLastValue(data)
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { getPendingSeries, getSeries, type SeriesResponse, type SeriesSource } from './api/index.js';

/**
 * Loads data with `load` whenever `key` changes, aborting the previous request. `refreshMs` reloads
 * periodically while `live` returns true for the latest data (a run still in progress).
 */
export function useData<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  options: { live?: (data: T) => boolean; refreshMs?: number } = {},
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>({
    key,
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // A layout effect: the request starts right after render instead of waiting for the next frame.
  useLayoutEffect(() => {
    const ac = new AbortController();
    setState((s) =>
      s.key === key ? { ...s, loading: true } : { key, data: undefined, error: undefined, loading: true },
    );
    loadRef.current(ac.signal).then(
      (data) => {
        if (!ac.signal.aborted) setState({ key, data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!ac.signal.aborted)
          setState((s) => ({ key, data: s.key === key ? s.data : undefined, error, loading: false }));
      },
    );
    return () => ac.abort();
  }, [key, tick]);
  const live = state.data !== undefined && options.live ? options.live(state.data) : false;
  useEffect(() => {
    if (!live || state.loading) return;
    const t = setTimeout(() => setTick((n) => n + 1), options.refreshMs ?? 2000);
    return () => clearTimeout(t);
  }, [live, state.loading, state.data]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return {
    data: state.key === key ? state.data : undefined,
    error: state.key === key ? state.error : undefined,
    loading: state.loading,
    reload,
  };
}

/**
 * `value`, or while it is undefined (a refresh, a zoom or the next slice still loading) the last value that
 * was not: the previous picture stays on screen instead of flashing empty.
 */
export function useLastValue<T>(value: T | undefined): T | undefined {
  const last = useRef(value);
  if (value !== undefined) last.current = value;
  return value ?? last.current;
}

/**
 * The series of `metric` for `runs` (references), downsampled on the server to `width` pixel columns over
 * `zoom` (whole runs when null). Nothing is asked while `width` is 0 (the chart not measured yet) or
 * while `skip` holds (the caller has the series already); `version` changing asks again (a live run grew).
 * With `pending`, the series of that run staged in pending/ (not sealed yet), through its own route.
 */
export function useSeries(
  runs: readonly string[],
  metric: string,
  options: {
    width: number;
    zoom: readonly [number, number] | null;
    version: string;
    skip?: boolean;
    source?: SeriesSource;
    pending?: { specimenId: string; stage: string };
  },
): { data: SeriesResponse | undefined; error: unknown } {
  const { width, zoom, version, skip = false, source = 'metrics', pending } = options;
  const { data, error } = useData(
    `series:${source}:${pending ? 'pending:' : ''}${runs.join('|')}/${metric}/${width}/${zoom?.join(':') ?? ''}/${version}`,
    (signal) => {
      if (width === 0 || skip) return Promise.resolve(undefined);
      const range = { metrics: [metric], width, from: zoom?.[0], to: zoom?.[1], source };
      return pending
        ? getPendingSeries(pending.specimenId, pending.stage, range, signal)
        : getSeries({ runs, ...range }, signal);
    },
  );
  return { data, error };
}
