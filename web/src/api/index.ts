/**
 * The web app's API client: one typed function per route, the one error they reject with, run references,
 * and the response types (types only). Pages import from here and from nowhere else for server data.
 *
 * @example
 * import { getRun, isRequestError, type RunResponse } from '../../api/index.js'
 */
export { isRequestError, RequestError } from './client.js';
export { isRunning, parseRunRef, RUNNING, runRef } from './refs.js';
export {
  addNoteEntry,
  deleteView,
  type ExplorerQuery,
  type GridSpec,
  type GroupsQuery,
  getCatalog,
  getCatalogVersion,
  getCodeDiff,
  getCompare,
  getExplorer,
  getGroups,
  getHealth,
  getLogs,
  getMetricsPage,
  getMultiples,
  getMultiplesStats,
  getPendingLogs,
  getPendingSeries,
  getRun,
  getRunCode,
  getRunCodeFile,
  getSeries,
  getSlice,
  getSpecimen,
  getTensor,
  getTurns,
  getValues,
  getView,
  listPending,
  listRuns,
  listViews,
  patchSpecimen,
  putFieldNotes,
  reindex,
  runQuery,
  type SeriesSource,
  SYSTEM_METRICS,
  saveView,
  type TensorRef,
} from './routes.js';
export type { Multiples, Slice } from './slice.js';
export type * from './types.js';
