/**
 * The experiment log researchers keep by hand, written from the vault as GitHub-flavoured Markdown: per
 * specimen its description and lab-notebook fields, then one entry per run in time order with the command,
 * the outcome (succeeded, or failed with the failure point from the run's stderr log), the key outputs
 * (artifacts and their paths), the result summary (summary values and metric summaries), the run's notes,
 * supersession (reason and successor) and provenance (commit, seed); the field notes close the section.
 * The same vault gives the same text: nothing depends on the clock or on the order files are listed in.
 *
 * @example
 * const md = await experimentLog(vault, ['2025_01_02_grok'], { metrics: ['test_loss'] })
 * fs.writeFileSync('LOG.md', md)
 */
import path from 'node:path';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import type { MetricColumnSummary } from '../storage/metrics/summary.js';
import type { Vault } from '../storage/vault.js';
import {
  type CollectedRun,
  type CollectedSpecimen,
  collectSpecimen,
  gitOf,
  plainText,
  seedText,
} from './collect.js';

/** Options of `experimentLog`. */
export interface ExperimentLogOptions {
  /** Metric columns to summarize (default: every numeric column of each run). */
  metrics?: readonly string[];
}

/** Escapes text for Markdown prose and table cells: inline syntax characters, pipes and line breaks. */
export function mdText(s: string): string {
  return s
    .replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ')
    .trim();
}

/** Inline code that holds any text: the fence is longer than any run of backticks inside. */
export function mdCode(s: string): string {
  const one = s.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...[...one.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') ? ' ' : '';
  // In a table cell a pipe ends the cell even inside code, so it is escaped there too (GFM rule).
  return `${fence}${pad}${one.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** A GFM table; every cell is escaped by the caller. */
function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A number as the log shows it: integers as is, others with 6 significant digits. */
export function fmtNumber(v: number | null): string {
  if (v === null) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** Shifts the ATX headings of embedded Markdown (field notes) below the log's own, outside code fences. */
export function demoteHeadings(text: string, by: number): string {
  let fenced = false;
  return text
    .split(/\r?\n/)
    .map((l) => {
      if (/^\s{0,3}(```|~~~)/.test(l)) fenced = !fenced;
      if (fenced) return l;
      return l.replace(/^(#{1,6})(?=\s|$)/, (h) => '#'.repeat(Math.min(6, h.length + by)));
    })
    .join('\n');
}

function outcome(run: CollectedRun): string {
  const { info } = run;
  const exit = info.exitCode === null ? '' : ` (exit ${String(info.exitCode)})`;
  if (info.status === 'succeeded') return `succeeded${exit}`;
  const at = run.failure === null ? '' : `: ${mdCode(run.failure)}`;
  return `${info.status}${exit}${at}`;
}

/** `0.5 (step 3)`, or the value alone when the metrics have no step column. */
function withStep(v: number | null, step: number | null): string {
  if (v === null) return '-';
  return step === null ? fmtNumber(v) : `${fmtNumber(v)} (step ${fmtNumber(step)})`;
}

/** A summary value: numbers as the log shows them, anything else as text. */
function summaryValue(v: PlainValue | undefined): string {
  return typeof v === 'number' ? fmtNumber(v) : mdText(plainText(v));
}

function summaryRows(summaries: MetricColumnSummary[], metrics: readonly string[] | undefined): string[][] {
  const chosen = metrics ? summaries.filter((s) => metrics.includes(s.column)) : summaries;
  return chosen.map((s) => [
    mdCode(s.column),
    fmtNumber(s.last),
    withStep(s.min, s.step_of_min),
    withStep(s.max, s.step_of_max),
    fmtNumber(s.mean),
    String(s.count),
  ]);
}

function runEntry(root: string, n: number, run: CollectedRun, options: ExperimentLogOptions): string {
  const { info } = run;
  const out: string[] = [];
  out.push(`### Run ${n}: ${mdCode(info.runId)} — ${info.status}${run.supersededBy ? ' (superseded)' : ''}`);
  const facts: string[] = [];
  const when = info.started ?? '-';
  const duration = info.durationS === null ? '' : ` (${fmtNumber(Number(info.durationS.toFixed(3)))} s)`;
  facts.push(`- **Started:** ${mdText(when)}${duration}`);
  facts.push(`- **Command:** ${info.command === null ? '-' : mdCode(info.command)}`);
  facts.push(`- **Outcome:** ${outcome(run)}`);
  if (run.supersededBy) {
    const reason = run.supersededBy.reason ? ` — ${mdText(run.supersededBy.reason)}` : '';
    facts.push(`- **Superseded by:** ${mdCode(run.supersededBy.by)}${reason}`);
  }
  if (info.reproduces)
    facts.push(
      `- **Reproduces:** ${mdCode(info.reproduces)} — ${mdText(info.reproduceVerdict ?? 'no verdict')}`,
    );
  const git = gitOf(info);
  const commit =
    git.commit === null ? '-' : `${mdCode(git.commit)}${git.dirty ? ' (uncommitted changes)' : ''}`;
  const seed = seedText(info.seeds);
  facts.push(`- **Provenance:** commit ${commit}${seed === null ? '' : `, seed ${mdCode(seed)}`}`);
  const config = Object.keys(info.config).sort();
  if (config.length > 0)
    facts.push(`- **Config:** ${config.map((k) => mdCode(`${k}=${plainText(info.config[k])}`)).join(', ')}`);
  out.push(facts.join('\n'));

  const artifacts = Object.keys(info.artifacts).sort();
  if (artifacts.length > 0) {
    const rel = (p: string) => path.relative(root, path.join(info.path, p)).split(path.sep).join('/');
    out.push(
      `**Key outputs**\n\n${table(
        ['artifact', 'path', 'format'],
        artifacts.map((name) => {
          const a = info.artifacts[name] as PlainObject;
          return [mdCode(name), mdCode(rel(String(a.path))), mdText(plainText(a.format))];
        }),
      )}`,
    );
  }

  const summaryKeys = Object.keys(info.summary).sort();
  const rows = summaryRows(run.summaries, options.metrics);
  if (summaryKeys.length > 0 || rows.length > 0) {
    const parts: string[] = ['**Result summary**'];
    if (summaryKeys.length > 0)
      parts.push(summaryKeys.map((k) => `- ${mdCode(k)}: ${summaryValue(info.summary[k])}`).join('\n'));
    if (rows.length > 0) parts.push(table(['metric', 'last', 'min', 'max', 'mean', 'count'], rows));
    out.push(parts.join('\n\n'));
  }
  if (run.notes !== null && run.notes.trim().length > 0)
    out.push(
      `**Notes**\n\n${run.notes
        .trim()
        .split(/\r?\n/)
        .map((l) => (l.length > 0 ? `> ${l}` : '>'))
        .join('\n')}`,
    );
  return out.join('\n\n');
}

function specimenSection(root: string, s: CollectedSpecimen, options: ExperimentLogOptions): string {
  const out: string[] = [`## ${mdText(s.id)}`];
  const d = s.description;
  const facts = [
    `- **Domain / method:** ${mdText(`${d.domain ?? '-'} / ${d.method ?? '-'}`)}`,
    `- **Model:** ${mdText(d.model ?? '-')}`,
    `- **Status:** ${mdText(d.status ?? '-')}`,
    `- **Tags:** ${d.tags.length > 0 ? d.tags.map(mdCode).join(', ') : '-'}`,
  ];
  out.push(facts.join('\n'));
  if (d.description) out.push(mdText(d.description));
  for (const { field, text } of s.lab)
    out.push(`**${field.replace('_', ' ').replace(/^./, (c) => c.toUpperCase())}:** ${mdText(text)}`);
  if (s.runs.length === 0) out.push('_No runs yet._');
  s.runs.forEach((run, i) => {
    out.push(runEntry(root, i + 1, run, options));
  });
  if (s.fieldNotes !== null && s.fieldNotes.trim().length > 0)
    out.push(`### Field notes\n\n${demoteHeadings(s.fieldNotes.trim(), 3)}`);
  return out.join('\n\n');
}

/** The experiment log of `ids` (see the module comment), ending with a newline. */
export async function experimentLog(
  vault: Vault,
  ids: readonly string[],
  options: ExperimentLogOptions = {},
): Promise<string> {
  const sections: string[] = ['# Experiment log'];
  for (const id of ids) sections.push(specimenSection(vault.root, await collectSpecimen(vault, id), options));
  return `${sections.join('\n\n')}\n`;
}
