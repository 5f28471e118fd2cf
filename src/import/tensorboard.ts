/**
 * TensorBoard source: event files (`events.out.tfevents.*`, TFRecord-framed `Event` protobufs) under a
 * logdir, decoded here without TensorFlow. Every directory holding event files is a run (several files in
 * one directory — a resumed run — are read in name order); the logdir is the experiment. Scalars (old-style
 * `simple_value` and `scalars`-plugin tensors) become metrics with their steps and wall times; histograms
 * and other tensors become tensor series; text summaries go to the run's notes.
 *
 * @example
 * const listing = await listTensorboard('/data/logs')
 * const run = await listing.runs[0]!.load()
 * run.series.find((s) => s.name === 'train/loss')
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ImportSourceError } from './errors.js';
import { histogramSeries, SeriesCollector } from './mapping.js';
import { double, fields, float, repeated, text, WIRE, WireError } from './protobuf.js';
import { readTfRecords } from './tfrecord.js';
import type {
  ImportProblem,
  NoteEntry,
  SourceExperiment,
  SourceListing,
  SourceRun,
  SourceRunHandle,
  TensorSeries,
} from './types.js';

const EVENT_FILE = /(^|\.)tfevents\./;

// Field numbers of tensorflow/core/util/event.proto and framework/summary.proto, tensor.proto.
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
const SUMMARY = { value: 1 } as const;
const VALUE = { tag: 1, simpleValue: 2, histo: 5, tensor: 8, metadata: 9 } as const;
const METADATA = { pluginData: 1 } as const;
const PLUGIN_DATA = { pluginName: 1 } as const;
const HISTO = { min: 1, max: 2, num: 3, sum: 4, sumSquares: 5, bucketLimit: 6, bucket: 7 } as const;
const TENSOR = {
  dtype: 1,
  shape: 2,
  content: 4,
  floatVal: 5,
  doubleVal: 6,
  intVal: 7,
  stringVal: 8,
  int64Val: 10,
  boolVal: 11,
  halfVal: 13,
} as const;
const SHAPE = { dim: 2 } as const;
const DIM = { size: 1 } as const;
/** tensorflow DataType values this reader decodes. */
const DT = {
  float: 1,
  double: 2,
  int32: 3,
  uint8: 4,
  int16: 5,
  int8: 6,
  string: 7,
  int64: 9,
  bool: 10,
  half: 19,
};

/** Lists the runs (directories with event files) under `logdir`. */
export async function listTensorboard(logdir: string): Promise<SourceListing> {
  const stat = await fsp.stat(logdir);
  const root = stat.isFile() ? path.dirname(logdir) : logdir;
  const byDir = new Map<string, string[]>();
  if (stat.isFile()) byDir.set(root, [path.basename(logdir)]);
  else await findEventFiles(root, byDir);
  if (byDir.size === 0)
    throw new ImportSourceError(
      logdir,
      'no TensorBoard event files (events.out.tfevents.*) under this directory',
    );
  const experiment: SourceExperiment = {
    key: path.basename(path.resolve(root)),
    name: path.basename(path.resolve(root)),
  };
  const runs: SourceRunHandle[] = [];
  for (const [dir, files] of [...byDir].sort(([a], [b]) => a.localeCompare(b))) {
    files.sort();
    const rel = path.relative(root, dir).split(path.sep).join('/') || '.';
    // The first event file's name holds its creation time, host and pid: with the run's directory it is
    // unique to the run and survives moving the logdir, so it identifies the run across re-imports.
    const sourceRunId = `${rel}/${files[0]}`;
    runs.push({
      sourceRunId,
      experiment,
      path: dir,
      started: startedFromName(files[0]!),
      load: () => loadRun(dir, rel, files, sourceRunId, experiment),
    });
  }
  return { tool: 'tensorboard', toolVersion: undefined, runs, problems: [] };
}

async function findEventFiles(dir: string, out: Map<string, string[]>): Promise<void> {
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await findEventFiles(path.join(dir, e.name), out);
    else if (EVENT_FILE.test(e.name)) {
      const list = out.get(dir) ?? [];
      list.push(e.name);
      out.set(dir, list);
    }
  }
}

function startedFromName(name: string): string | undefined {
  const m = /tfevents\.(\d{9,})/.exec(name);
  return m ? new Date(Number(m[1]) * 1000).toISOString() : undefined;
}

async function loadRun(
  dir: string,
  rel: string,
  files: string[],
  sourceRunId: string,
  experiment: SourceExperiment,
): Promise<SourceRun> {
  const problems: ImportProblem[] = [];
  const scalars = new SeriesCollector();
  const histos = new Map<
    string,
    { steps: number[]; wallTimes: number[]; buckets: number[][]; stats: number[][] }
  >();
  const tensors = new Map<
    string,
    { steps: number[]; wallTimes: number[]; shape: number[]; values: number[][] }
  >();
  const notes: NoteEntry[] = [];
  const plugins = new Map<string, string>();
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let version: string | undefined;
  let readable = 0;
  for (const name of files) {
    const file = path.join(dir, name);
    const { records, problem } = readTfRecords(new Uint8Array(await fsp.readFile(file)));
    if (problem)
      problems.push({
        path: file,
        reason: `${problem}; the ${records.length} record(s) before it were imported`,
        sourceRunId,
      });
    for (const [i, record] of records.entries()) {
      try {
        const ev = decodeEvent(record);
        if (ev.fileVersion !== undefined) {
          if (!/^brain\.Event:[12]$/.test(ev.fileVersion)) {
            problems.push({
              path: file,
              reason: `unknown event file version ${JSON.stringify(ev.fileVersion)}; file skipped`,
              sourceRunId,
            });
            break;
          }
          version = ev.fileVersion;
          continue;
        }
        if (ev.wallTime < first) first = ev.wallTime;
        if (ev.wallTime > last) last = ev.wallTime;
        for (const v of ev.values) {
          if (v.plugin) plugins.set(v.tag, v.plugin);
          const plugin = v.plugin ?? plugins.get(v.tag);
          if (v.simpleValue !== undefined) scalars.add(v.tag, ev.step, v.simpleValue, ev.wallTime);
          else if (v.histo) {
            const h = histos.get(v.tag) ?? { steps: [], wallTimes: [], buckets: [], stats: [] };
            h.steps.push(ev.step);
            h.wallTimes.push(ev.wallTime);
            h.buckets.push(v.histo.buckets);
            h.stats.push(v.histo.stats);
            histos.set(v.tag, h);
          } else if (v.tensor) {
            const t = v.tensor;
            if (plugin === 'text' || t.strings) {
              for (const s of t.strings ?? [])
                notes.push({ tag: v.tag, step: ev.step, wallTime: ev.wallTime, text: s });
            } else if (plugin === 'scalars' && t.values.length === 1) {
              scalars.add(v.tag, ev.step, t.values[0]!, ev.wallTime);
            } else {
              const acc = tensors.get(v.tag) ?? { steps: [], wallTimes: [], shape: t.shape, values: [] };
              if (acc.shape.join(',') !== t.shape.join(',')) {
                problems.push({
                  path: `${file}#${v.tag}`,
                  reason: `tensor changes shape from [${acc.shape}] to [${t.shape}] at step ${ev.step}; that value skipped`,
                  sourceRunId,
                });
                continue;
              }
              acc.steps.push(ev.step);
              acc.wallTimes.push(ev.wallTime);
              acc.values.push(t.values);
              tensors.set(v.tag, acc);
            }
          }
        }
        readable++;
      } catch (err) {
        if (!(err instanceof WireError || err instanceof UnsupportedTensor)) throw err;
        problems.push({
          path: `${file}#record${i}`,
          reason: `cannot decode event: ${err.message}`,
          sourceRunId,
        });
      }
    }
  }
  if (readable === 0 && problems.length > 0)
    throw new ImportSourceError(dir, problems.map((p) => `${p.path}: ${p.reason}`).join('; '));
  const series = scalars.series();
  const tensorSeries: TensorSeries[] = [];
  for (const [tag, h] of histos)
    tensorSeries.push(
      histogramSeries(tag, h.steps, h.wallTimes, h.buckets, Float64Array.from(h.stats.flat())),
    );
  for (const [tag, t] of tensors) {
    tensorSeries.push({
      tag,
      kind: 'tensor',
      steps: t.steps,
      wallTimes: t.wallTimes,
      shape: t.shape,
      data: Float64Array.from(t.values.flat()),
    });
  }
  return {
    sourceRunId,
    experiment,
    name: rel,
    status: 'succeeded',
    sourceStatus: version,
    started: Number.isFinite(first) ? new Date(first * 1000).toISOString() : undefined,
    ended: Number.isFinite(last) ? new Date(last * 1000).toISOString() : undefined,
    config: {},
    tags: {},
    provenance: {},
    series,
    tensors: tensorSeries,
    notes,
    artifacts: [],
    problems,
  };
}

// ---- Event decoding ----

interface DecodedValue {
  tag: string;
  plugin?: string;
  simpleValue?: number;
  histo?: { buckets: number[]; stats: number[] };
  tensor?: { shape: number[]; values: number[]; strings?: string[] };
}

function decodeEvent(buf: Uint8Array): {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: DecodedValue[];
} {
  let wallTime = 0;
  let step = 0;
  let fileVersion: string | undefined;
  const values: DecodedValue[] = [];
  for (const f of fields(buf)) {
    if (f.no === EVENT.wallTime && f.wire === WIRE.fixed64) wallTime = double(f);
    else if (f.no === EVENT.step && f.wire === WIRE.varint) step = f.int;
    else if (f.no === EVENT.fileVersion && f.wire === WIRE.bytes) fileVersion = text(f);
    else if (f.no === EVENT.summary && f.wire === WIRE.bytes)
      for (const s of fields(f.bytes))
        if (s.no === SUMMARY.value && s.wire === WIRE.bytes) values.push(decodeValue(s.bytes));
  }
  return { wallTime, step, ...(fileVersion !== undefined ? { fileVersion } : {}), values };
}

function decodeValue(buf: Uint8Array): DecodedValue {
  const v: DecodedValue = { tag: '' };
  for (const f of fields(buf)) {
    if (f.no === VALUE.tag) v.tag = text(f);
    else if (f.no === VALUE.simpleValue && f.wire === WIRE.fixed32) v.simpleValue = float(f);
    else if (f.no === VALUE.histo && f.wire === WIRE.bytes) v.histo = decodeHisto(f.bytes);
    else if (f.no === VALUE.tensor && f.wire === WIRE.bytes) v.tensor = decodeTensor(f.bytes);
    else if (f.no === VALUE.metadata && f.wire === WIRE.bytes) {
      for (const m of fields(f.bytes))
        if (m.no === METADATA.pluginData && m.wire === WIRE.bytes)
          for (const p of fields(m.bytes)) if (p.no === PLUGIN_DATA.pluginName) v.plugin = text(p);
    }
  }
  return v;
}

/** A histogram as [limit, count] pairs plus [min, max, num, sum, sum_squares]. */
function decodeHisto(buf: Uint8Array): { buckets: number[]; stats: number[] } {
  const stats = [0, 0, 0, 0, 0];
  const limits: number[] = [];
  const counts: number[] = [];
  for (const f of fields(buf)) {
    if (f.no >= HISTO.min && f.no <= HISTO.sumSquares && f.wire === WIRE.fixed64) stats[f.no - 1] = double(f);
    else if (f.no === HISTO.bucketLimit) limits.push(...repeated(f, 'double'));
    else if (f.no === HISTO.bucket) counts.push(...repeated(f, 'double'));
  }
  const buckets: number[] = [];
  for (let i = 0; i < limits.length; i++) buckets.push(limits[i]!, counts[i] ?? 0);
  return { buckets, stats };
}

class UnsupportedTensor extends Error {}

function decodeTensor(buf: Uint8Array): { shape: number[]; values: number[]; strings?: string[] } {
  let dtype = 0;
  const shape: number[] = [];
  let content: Uint8Array | undefined;
  const values: number[] = [];
  const strings: string[] = [];
  for (const f of fields(buf)) {
    if (f.no === TENSOR.dtype) dtype = f.int;
    else if (f.no === TENSOR.shape)
      for (const d of fields(f.bytes))
        if (d.no === SHAPE.dim) for (const s of fields(d.bytes)) if (s.no === DIM.size) shape.push(s.int);
    if (f.no === TENSOR.content) content = f.bytes;
    else if (f.no === TENSOR.floatVal) values.push(...repeated(f, 'float'));
    else if (f.no === TENSOR.doubleVal) values.push(...repeated(f, 'double'));
    else if (
      f.no === TENSOR.intVal ||
      f.no === TENSOR.int64Val ||
      f.no === TENSOR.boolVal ||
      f.no === TENSOR.halfVal
    )
      values.push(...repeated(f, 'varint'));
    else if (f.no === TENSOR.stringVal) strings.push(text(f));
  }
  if (dtype === DT.string) return { shape, values: [], strings };
  const n = shape.reduce((a, b) => a * b, 1);
  if (content) return { shape, values: fromContent(dtype, content) };
  if (dtype === DT.half)
    throw new UnsupportedTensor('half-precision values outside tensor_content are not supported');
  // TensorFlow lets a tensor list fewer values than its size: the last one repeats.
  if (values.length > 0 && values.length < n) {
    const lastValue = values.at(-1)!;
    while (values.length < n) values.push(lastValue);
  }
  return { shape, values };
}

function fromContent(dtype: number, content: Uint8Array): number[] {
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  const out: number[] = [];
  const step: Record<number, [number, (o: number) => number]> = {
    [DT.float]: [4, (o) => view.getFloat32(o, true)],
    [DT.double]: [8, (o) => view.getFloat64(o, true)],
    [DT.int32]: [4, (o) => view.getInt32(o, true)],
    [DT.int16]: [2, (o) => view.getInt16(o, true)],
    [DT.int8]: [1, (o) => view.getInt8(o)],
    [DT.uint8]: [1, (o) => view.getUint8(o)],
    [DT.bool]: [1, (o) => view.getUint8(o)],
    [DT.int64]: [8, (o) => Number(view.getBigInt64(o, true))],
    [DT.half]: [2, (o) => halfToFloat(view.getUint16(o, true))],
  };
  const s = step[dtype];
  if (!s) throw new UnsupportedTensor(`tensor dtype ${dtype} is not supported`);
  for (let o = 0; o + s[0] <= content.length; o += s[0]) out.push(s[1](o));
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
