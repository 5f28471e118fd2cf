/**
 * Terminal output rules: colour only when the stream is a TTY and NO_COLOR is unset (https://no-color.org),
 * never in pipes or files. Everything the CLI prints goes through here.
 */
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Whether `stream` should get ANSI colour. */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR === '1') return true;
  return Boolean(stream.isTTY);
}

/** A painter for one stream: returns text unchanged when colour is off. */
export function painter(stream: NodeJS.WriteStream = process.stdout): (style: Style, text: string) => string {
  const on = colorEnabled(stream);
  return (style, text) => (on ? styleText(style, text, { validateStream: false }) : text);
}

/** Human-readable byte size. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Human-readable duration in seconds. */
export function formatDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '-';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
