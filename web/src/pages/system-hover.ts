/**
 * What hovering a System chart shows: every system metric of every run at the sample nearest to the
 * cursor's elapsed second, asked of the server (`GET /api/values?source=system`), so a CPU % chart also
 * tells the RSS and GPU at that moment. RSS and GPU memory are in human units (fmtBytes).
 *
 * @example
 * <LineChart … hoverDetail={systemHover(['S/R1', 'S/R2'], names)} />
 */
import { getValues, runRef } from '../api/index.js';
import type { HoverLine } from '../components/LineChart.js';
import { colorAt, fmtBytes, fmtNumber } from '../format.js';
import { runLabel } from './compare/run-label.js';

/** One run's system values as one line of text: `CPU 93.1 % · RSS 210.4 MB · GPU 40 % · GPU mem 1.2 GB`. */
export function systemText(values: Readonly<Record<string, number | null>>, at: number | null): string {
  const parts: string[] = [];
  const v = (k: string) => (typeof values[k] === 'number' ? values[k] : null);
  const cpu = v('cpu_percent');
  if (cpu !== null) parts.push(`CPU ${fmtNumber(Math.round(cpu * 10) / 10)} %`);
  const rss = v('rss_bytes');
  if (rss !== null) parts.push(`RSS ${fmtBytes(rss)}`);
  const gpu = v('gpu_util_percent');
  if (gpu !== null) parts.push(`GPU ${fmtNumber(Math.round(gpu * 10) / 10)} %`);
  const mem = v('gpu_memory_bytes');
  if (mem !== null) parts.push(`GPU mem ${fmtBytes(mem)}`);
  if (parts.length === 0) return 'no samples';
  return at === null ? parts.join(' · ') : `${parts.join(' · ')} @ ${fmtNumber(Math.round(at * 10) / 10)} s`;
}

/** The y axis format of system metric `metric`: bytes in human units, percentages as numbers. */
export function systemAxis(metric: string): (v: number) => string {
  return metric.endsWith('_bytes') ? (v) => (v === 0 ? '0' : fmtBytes(v)) : fmtNumber;
}

/** The hover detail of a System chart of runs `refs` (colours by position, labels by `names`). */
export function systemHover(
  refs: readonly string[],
  names?: ReadonlyMap<string, string>,
): (x: number, signal: AbortSignal) => Promise<{ heading: string; lines: HoverLine[] }> {
  return async (x, signal) => {
    const r = await getValues(refs, Math.max(0, x), signal, 'system');
    return {
      heading: `${fmtNumber(Math.round(Math.max(0, x) * 10) / 10)} s elapsed`,
      lines: r.runs.map((run) => {
        const ref = runRef(run);
        return {
          color: colorAt(refs.indexOf(ref)),
          label: runLabel(ref, names),
          text: systemText(run.values, run.step),
        };
      }),
    };
  };
}
