/** The catalog table's columns: what each shows of a row, its width, and whether it sorts. */
import { StatusBadge, Tag } from '../../components/common.js';
import type { Column } from '../../components/VirtualTable.js';
import { fmtDate } from '../../format.js';
import { href } from '../../router.js';
import { COL, type Row, str } from './rows.js';

/** The columns, in order; the sortable ones' keys are the sort keys of the URL. */
export const CATALOG_TABLE_COLUMNS: readonly Column<Row>[] = [
  {
    key: 'specimen_id',
    label: 'Specimen',
    width: 290,
    grow: true,
    sortable: true,
    render: (r) => (
      <a href={href(['specimen', String(r[COL.specimen_id])])} class="mono" title={str(r[COL.description])}>
        {str(r[COL.specimen_id])}
      </a>
    ),
  },
  { key: 'created', label: 'Created', width: 150, sortable: true, render: (r) => fmtDate(r[COL.created]) },
  { key: 'domain', label: 'Domain', width: 125, sortable: true, render: (r) => str(r[COL.domain]) },
  { key: 'method', label: 'Method', width: 130, sortable: true, render: (r) => str(r[COL.method]) },
  { key: 'model', label: 'Model', width: 115, sortable: true, render: (r) => str(r[COL.model]) || '–' },
  {
    key: 'tags',
    label: 'Tags',
    width: 200,
    sortable: true,
    render: (r) => (
      <span class="tags" title={str(r[COL.tags])}>
        {(Array.isArray(r[COL.tags]) ? (r[COL.tags] as string[]) : []).map((t) => (
          <Tag key={t} name={t} />
        ))}
      </span>
    ),
  },
  {
    key: 'status',
    label: 'Status',
    width: 90,
    sortable: true,
    render: (r) => <StatusBadge status={str(r[COL.status])} />,
  },
  {
    key: 'run_count',
    label: 'Runs',
    width: 56,
    sortable: true,
    align: 'right',
    render: (r) => str(r[COL.run_count]),
  },
  {
    key: 'latest_status',
    label: 'Latest run',
    width: 110,
    sortable: true,
    render: (r) =>
      r[COL.latest_run] ? (
        <StatusBadge status={str(r[COL.latest_status])} />
      ) : (
        <span class="muted">none</span>
      ),
  },
];
