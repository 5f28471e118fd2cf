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

/** What happens once the reader of stdout or stderr has gone away; see handleClosedOutput. */
let whenOutputCloses: 'exit' | 'continue' = 'exit';

/**
 * A reader that stops early (`specimen ls | head -1`) closes the pipe, and the next write fails with EPIPE;
 * unhandled, that error ends the CLI with a stack trace. Instead the CLI exits quietly with the code it
 * has so far (0 when the command had not failed): nobody is reading any more. Commands that must finish
 * their work regardless (`specimen run` seals its run, `specimen serve` keeps serving) call
 * keepRunningWhenOutputCloses(), and their further output is dropped.
 */
export function handleClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      if (whenOutputCloses === 'exit') process.exit(process.exitCode ?? 0);
    });
  }
}

/** For commands that must run to their end even when nobody reads their output any more. */
export function keepRunningWhenOutputCloses(): void {
  whenOutputCloses = 'continue';
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
