/**
 * Metrics storage: Parquet files of per-step metrics, written in bulk (writeMetricsFile) or streamed from a
 * training loop (MetricsWriter), read back as apache-arrow Tables.
 *
 * @example
 * import { MetricsWriter, readRunMetrics } from './storage/metrics/index.js'
 * const w = new MetricsWriter({ runDir, runId })
 * w.log({ step: 0, loss: 0.93 })
 * await w.close()
 * const table = await readRunMetrics(runDir, runId)
 */
export { MetricsWriter, type MetricsWriterOptions } from './metrics-writer.js';
export { parquetInfo, readParquetTable, readRunMetrics } from './read.js';
export type { MetricsFileInfo, MetricsInput } from './types.js';
export { writeMetricsFile } from './write-file.js';
