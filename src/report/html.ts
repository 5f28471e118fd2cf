/**
 * A report as one self-contained HTML file: the report data as JSON in a `<script type="application/json">`
 * element and the report's client script and styles (web/src/report/, built by `npm run build:web` into
 * dist/report-client/) inlined, so the file opens from `file://` with no server and makes no network
 * request. Nothing in it depends on the time or place of writing: the same data give the same bytes.
 *
 * @example
 * const html = await renderReportHtml(await buildReportData(vault, { refs: [id] }))
 * await writeFileAtomic('report.html', html)
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../errors.js';
import { stableJson } from './collect.js';
import type { ReportData } from './report-types.js';

/** The built client: dist/report-client beside the compiled module, or under the repository root. */
function clientDir(): string {
  const candidates = [
    path.resolve(import.meta.dirname, '..', 'report-client'),
    path.resolve(import.meta.dirname, '..', '..', 'dist', 'report-client'),
  ];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'report.js')));
  if (!found)
    throw new NotFoundError('report client', 'dist/report-client/report.js', [], 'run `npm run build` first');
  return found;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text safe inside a `<script>` or `<style>` element: no `</` can close it early. */
function inlineSafe(s: string): string {
  return s.replace(/<\/(script|style)/gi, '<\\/$1');
}

/** The HTML document of a report (see the module comment). */
export function renderReportHtml(data: ReportData): string {
  const dir = clientDir();
  const js = fs.readFileSync(path.join(dir, 'report.js'), 'utf8');
  const cssFile = path.join(dir, 'report.css');
  const css = fs.existsSync(cssFile) ? fs.readFileSync(cssFile, 'utf8') : '';
  // `<` as \u003c keeps the JSON from ever closing its script element; JSON.parse reads it back unchanged.
  const json = stableJson(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  const notes = data.specimens
    .filter((s) => s.fieldNotes)
    .map((s) => `<h2>${escapeHtml(s.id)}</h2><pre>${escapeHtml(s.fieldNotes!)}</pre>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="specimen-vault report">
<title>${escapeHtml(data.title)}</title>
<style>${inlineSafe(css)}</style>
</head>
<body>
<div id="app"><noscript><h1>${escapeHtml(data.title)}</h1><p>This report draws its charts and tables with JavaScript; the field notes follow as written.</p>${notes}</noscript></div>
<script type="application/json" id="report-data">${json}</script>
<script>${inlineSafe(js)}</script>
</body>
</html>
`;
}
