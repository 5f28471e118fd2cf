/**
 * A run's metrics table, virtualised: pages of 200 rows are asked for as they scroll into view, and all
 * are dropped when the run changes (`version`: a run in progress grew).
 */
import { useCallback, useRef, useState } from 'preact/hooks';
import { getMetricsPage, type MetricsPage } from '../../api/index.js';
import { Loading } from '../../components/common.js';
import { type Column, VirtualTable } from '../../components/VirtualTable.js';
import { fmtValue } from '../../format.js';

/** Rows asked for at a time. */
const PAGE = 200;

export function MetricsTable({
  specimenId,
  runId,
  version,
}: {
  specimenId: string;
  runId: string;
  version: string;
}) {
  const pages = useRef(new Map<number, MetricsPage>());
  const inflight = useRef(new Set<number>());
  const [, force] = useState(0);
  const [meta, setMeta] = useState<
    { version: string; total: number; columns: MetricsPage['columns'] } | undefined
  >();
  if (meta && meta.version !== version) {
    pages.current.clear();
    inflight.current.clear();
  }
  const fetchPage = useCallback(
    (p: number) => {
      if (pages.current.has(p) || inflight.current.has(p)) return;
      inflight.current.add(p);
      getMetricsPage(specimenId, runId, { offset: p * PAGE, limit: PAGE }).then(
        (page) => {
          inflight.current.delete(p);
          pages.current.set(p, page);
          setMeta({ version, total: page.total, columns: page.columns });
          force((n) => n + 1);
        },
        () => inflight.current.delete(p),
      );
    },
    [specimenId, runId, version],
  );
  const onRange = useCallback(
    (start: number, end: number) => {
      for (let p = Math.floor(start / PAGE); p <= Math.floor((end - 1) / PAGE); p++) fetchPage(p);
    },
    [fetchPage],
  );
  if (!meta || meta.version !== version) {
    fetchPage(0);
    if (!meta) return <Loading what="metrics table" />;
  }
  const columns: Column<unknown[]>[] = meta.columns.map((c, k) => ({
    key: c.name,
    label: c.name,
    width: c.name === 'run_id' ? 170 : 130,
    align: c.numeric || c.name === 'step' ? 'right' : 'left',
    render: (r) => fmtValue(r[k]),
  }));
  return (
    <details class="metrics-table" open={meta.total <= 20}>
      <summary>Table ({meta.total} rows)</summary>
      <VirtualTable
        columns={columns}
        count={meta.total}
        getRow={(i) => pages.current.get(Math.floor(i / PAGE))?.rows[i % PAGE]}
        height="320px"
        onRange={onRange}
        rowHeight={26}
        testId="metrics"
      />
    </details>
  );
}
