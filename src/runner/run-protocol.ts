/**
 * `specimen run`: executes a specimen's protocol as a child process inside a new run and seals the run with
 * full provenance. Output streams live to the terminal and into `stdout.log`/`stderr.log`; metrics written
 * as JSON lines and tensors saved as `.npy` are converted to Parquet and Zarr; SIGINT/SIGTERM stop the child
 * and seal the run as `interrupted`. If the runner itself is killed, the run stays `running` with a dead
 * owner, which readers show as incomplete.
 *
 * @example
 * const r = await runProtocol({ vault, specimenId: '2025_01_02_x', seed: 3, config: { lr: 0.1 } })
 * r.status     // 'succeeded' | 'failed' | 'interrupted'
 * r.exitCode   // the protocol's exit code
 */

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError, ProtocolStartError, StorageFullError } from '../errors.js';
import {
  MANIFEST_FILE,
  METRICS_JSONL_FILE,
  NPY_SERIES_SUFFIX,
  PARTS_DIR,
  RUNS_DIR,
  STDERR_FILE,
  STDOUT_FILE,
  SYSTEM_JSONL_FILE,
} from '../format/layout.js';
import type { RunManifest, RunStatus } from '../format/manifest.js';
import { type PlainObject, writeManifestFile } from '../format/msgpack.js';
import {
  listOr,
  PROTOCOL_FILES,
  PROTOCOL_KINDS,
  PROTOCOL_LANGUAGES,
  type ProtocolCommand,
} from '../format/protocols.js';
import { asStorageFull } from '../storage/disk-full.js';
import { type Durability, groupCommitFor } from '../storage/durability.js';
import { claimRunDir } from '../storage/runs.js';
import { sealRunDir } from '../storage/seal.js';
import type { Vault } from '../storage/vault.js';
import { keepCode, keptCodeField, protocolFiles } from './code-kept.js';
import type { ConversionReport } from './convert.js';
import { finishFields, takeFinishRequest } from './external-run.js';
import { captureProvenance } from './provenance.js';
import { DEFAULT_SYSTEM_INTERVAL_S, SystemSampler } from './system-sampler.js';

/** Options of runProtocol. */
export interface RunProtocolOptions {
  vault: Vault;
  specimenId: string;
  /** Seed passed as SPECIMEN_SEED and recorded as `seeds.global`. */
  seed?: number;
  /** Configuration passed as SPECIMEN_CONFIG (JSON) and recorded as `config`. */
  config?: PlainObject;
  /** Explicit command (`-- COMMAND ARGS…`); otherwise the specimen's protocol file. */
  command?: readonly string[];
  /** Python interpreter for protocol.py (default `python3`). */
  python?: string;
  /** Extra run-manifest fields (e.g. `reproduction`). */
  extra?: PlainObject;
  /** When the sealed run is durable (default: the vault's `durability`); batch runs are flushed at exit. */
  durability?: Durability;
  /** Where the child's output is echoed (default: this process's stdout/stderr; null to silence). */
  echo?: { stdout: NodeJS.WritableStream | null; stderr: NodeJS.WritableStream | null };
  /** Receives conversion warnings (malformed metric lines…). */
  onWarning?: (message: string) => void;
  /**
   * Seconds between system-metric samples of the protocol's process tree (Linux), or null for none;
   * default the vault's `system.interval_s`, else 5.
   */
  systemIntervalS?: number | null;
  /** Called after the protocol's outputs are converted and before sealing; returns extra manifest fields. */
  beforeSeal?: (runDir: string, runId: string) => Promise<PlainObject>;
}

/** Outcome of a run. */
export interface RunProtocolResult {
  runId: string;
  runDir: string;
  status: Exclude<RunStatus, 'running'>;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationS: number;
  manifest: RunManifest;
  conversion: ConversionReport;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = fs.existsSync(path.join(here, 'protocol-hooks.js')) ? 'js' : 'ts';
/** The Python helper package shipped with this library (python/specimen_vault). */
export const PYTHON_HELPER_DIR = path.resolve(here, '..', '..', 'python');

/** The command that runs `specimenDir`'s protocol, or a NotFoundError saying what was looked for. */
export function protocolCommand(
  specimenDir: string,
  python = 'python3',
): { command: string[]; protocol: string; language: string; runtime: ProtocolCommand['runtime'] } {
  for (const lang of PROTOCOL_LANGUAGES) {
    for (const file of lang.files) {
      if (fs.existsSync(path.join(specimenDir, file)))
        return {
          command: [...interpreter(lang.command, python), file],
          protocol: file,
          language: lang.language,
          runtime: lang.command.runtime,
        };
    }
  }
  throw new NotFoundError(
    'protocol',
    path.basename(specimenDir),
    [],
    `no ${listOr(PROTOCOL_FILES)} in ${specimenDir}; add one (\`specimen new --protocol ${PROTOCOL_KINDS.join('|')}\` writes a template) or give the command after --`,
  );
}

/** The program and arguments before the protocol file; Node.js gets this library's resolve hooks. */
function interpreter(command: ProtocolCommand, python: string): string[] {
  if (command.runtime === 'python') return [python, ...command.flags];
  const hooks = path.join(here, `protocol-hooks.${ext}`);
  const preload = command.preload.flatMap((m) => ['--import', import.meta.resolve(m)]);
  return [process.execPath, ...preload, '--import', hooks];
}

/** Runs the protocol (or `command`) of a specimen in a new run; resolves when the run is sealed. */
export async function runProtocol(options: RunProtocolOptions): Promise<RunProtocolResult> {
  const { vault, specimenId } = options;
  const specimenDir = await vault.assertSpecimenExists(specimenId);
  const python = options.python ?? 'python3';
  const resolved = options.command?.length
    ? { command: [...options.command], protocol: null, language: 'command', runtime: undefined }
    : protocolCommand(specimenDir, python);
  const seed = options.seed ?? 0;
  const config = options.config ?? {};

  const { runId, dir } = await claimRunDir(path.join(specimenDir, RUNS_DIR));
  const started = new Date();
  const manifest: PlainObject = {
    run_id: runId,
    run_timestamp: started.toISOString(),
    started: started.toISOString(),
    ended: null,
    status: 'running',
    seeds: { global: seed },
    config,
    summary: {},
    artifacts: {},
    owner: { pid: process.pid, host: os.hostname() },
    command: resolved.command,
    protocol: resolved.protocol,
    language: resolved.language,
    cwd: '.',
    ...(options.extra ?? {}),
  };
  await writeManifestFile(path.join(dir, MANIFEST_FILE), manifest).catch((err: unknown) => {
    throw asStorageFull(err, 'run', path.join(dir, MANIFEST_FILE)) ?? err;
  });

  // Provenance is gathered while the protocol runs, so it adds nothing to the run's wall time.
  const provenance = captureProvenance({
    cwd: specimenDir,
    ...(resolved.runtime === 'python' ? { python } : {}),
  });

  // The code as it is when the protocol starts (it may rewrite its own files); cheap, see code-kept.ts.
  const kept = await keepCode(dir, { files: protocolFiles(specimenDir), gitCwd: specimenDir });

  const configured =
    options.systemIntervalS !== undefined ? options.systemIntervalS : vault.config.systemIntervalS;
  const systemIntervalS =
    process.platform === 'linux' ? (configured === undefined ? DEFAULT_SYSTEM_INTERVAL_S : configured) : null;
  let sampler: SystemSampler | undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPECIMEN_VAULT: vault.root,
    SPECIMEN_ID: specimenId,
    SPECIMEN_RUN_ID: runId,
    SPECIMEN_RUN_DIR: dir,
    SPECIMEN_SEED: String(seed),
    SPECIMEN_CONFIG: JSON.stringify(config),
    // The runner samples the whole process tree, so the Python package in it does not sample too.
    ...(systemIntervalS !== null ? { SPECIMEN_SYSTEM_INTERVAL: 'off' } : {}),
    PYTHONPATH: [PYTHON_HELPER_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
  };
  const stdoutLog = fs.createWriteStream(path.join(dir, STDOUT_FILE));
  const stderrLog = fs.createWriteStream(path.join(dir, STDERR_FILE));
  // A log that cannot be written (a full disk) must not end the runner: the protocol keeps running, its
  // output still reaches the terminal, and the run records what was lost.
  let logFailure: unknown;
  for (const log of [stdoutLog, stderrLog]) log.on('error', (err) => (logFailure ??= err));
  const echo = options.echo ?? { stdout: process.stdout, stderr: process.stderr };

  const [cmd, ...args] = resolved.command as [string, ...string[]];
  let child: ChildProcess;
  let interruptedBy: NodeJS.Signals | null = null;
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; startError?: Error }>(
    (resolve) => {
      // Its own process group, so a stop signal reaches the protocol's whole process tree (a shell and
      // its children), not only the direct child.
      child = spawn(cmd, args, { cwd: specimenDir, env, stdio: ['inherit', 'pipe', 'pipe'], detached: true });
      if (child.pid !== undefined && systemIntervalS !== null) {
        sampler = new SystemSampler({
          dir,
          pid: child.pid,
          intervalS: systemIntervalS,
          ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        });
        sampler.start();
      }
      child.stdout?.on('data', (d: Buffer) => {
        stdoutLog.write(d);
        echo.stdout?.write(d);
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderrLog.write(d);
        echo.stderr?.write(d);
      });
      const onSignal = (sig: NodeJS.Signals): void => {
        interruptedBy ??= sig;
        signalGroup(child, sig);
        // A protocol that ignores the signal is killed after a grace period; the run is still sealed.
        setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000).unref();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      child.once('error', (err) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve({ code: null, signal: null, startError: err });
      });
      child.once('close', (code, signal) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve({ code, signal });
      });
    },
  );
  await sampler?.stop();
  await Promise.all(
    [stdoutLog, stderrLog].map((log) => new Promise<void>((r) => log.end(r).once('error', () => r()))),
  );
  const ended = new Date();

  if (exit.startError) {
    const err = exit.startError as NodeJS.ErrnoException;
    const what =
      err.code === 'ENOENT'
        ? `cannot start ${JSON.stringify(cmd)}: no such program${resolved.runtime === 'python' ? ' (pass --python PATH to choose the interpreter)' : ''}`
        : `cannot start ${JSON.stringify(cmd)}: ${err.message}`;
    await fsp.appendFile(path.join(dir, STDERR_FILE), `${what}\n`);
    await sealRunDir(
      dir,
      {
        ...manifest,
        ended: ended.toISOString(),
        exit_code: null,
        start_error: what,
      } as unknown as RunManifest,
      {
        status: 'failed',
      },
    );
    throw new ProtocolStartError(resolved.command, runId, what, { cause: err });
  }

  // The converters (and with them DuckDB and the Zarr codecs) load only when there is something to convert.
  // finish.json: what the Python package says at exit (summary, traceback); its runs' tensors use the
  // vault's python.zarr_format, as do protocol.py's.
  const finish = await takeFinishRequest(dir, options.onWarning);
  const fromPython = finish !== undefined || resolved.language === 'python';
  const pending = (await fsp.readdir(dir)).some(
    (f) =>
      f === METRICS_JSONL_FILE ||
      f === SYSTEM_JSONL_FILE ||
      f.endsWith('.npy') ||
      f.endsWith(NPY_SERIES_SUFFIX),
  );
  let conversion: ConversionReport = { rows: 0, rejectedLines: 0, rejected: [], tensors: [] };
  // The first full-disk failure: of the protocol's own writes (its finish.json says so), the logs, or the
  // conversion. The run is then sealed as failed with it, and it is what runProtocol throws.
  let full: StorageFullError | undefined =
    finish?.error?.type === 'StorageFullError'
      ? new StorageFullError('run', dir, 'ENOSPC', { cause: finish.error })
      : asStorageFull(logFailure, 'run', dir);
  if (pending) {
    try {
      conversion = await (await import('./convert.js')).convertRunOutputs(dir, runId, options.onWarning, {
        ...(fromPython ? { zarrFormat: vault.config.pythonZarrFormat } : {}),
      });
    } catch (err) {
      const f = asStorageFull(err, 'run', dir);
      if (!f) throw err;
      full ??= f;
      // The protocol's own files (metrics.jsonl, .npy) keep every row it wrote; what the conversion had
      // written of them goes, which also gives back space for sealing.
      await fsp.rm(path.join(dir, PARTS_DIR), { recursive: true, force: true });
    }
  }
  const prov = await provenance;
  const byExit: Exclude<RunStatus, 'running'> =
    interruptedBy || exit.signal === 'SIGINT' || exit.signal === 'SIGTERM'
      ? 'interrupted'
      : exit.code === 0
        ? 'succeeded'
        : 'failed';
  // A protocol that exits 0 after `sv.finish("failed")` still failed.
  const status = full ? 'failed' : byExit === 'succeeded' && finish?.status ? finish.status : byExit;
  const exitCode = exit.code ?? (exit.signal ? 128 + (os.constants.signals[exit.signal] ?? 0) : null);
  const durationS = (ended.getTime() - started.getTime()) / 1000;
  const final: PlainObject = {
    ...manifest,
    ended: ended.toISOString(),
    duration_s: durationS,
    exit_code: exitCode,
    signal: exit.signal ?? interruptedBy,
    git: prov.git,
    host: prov.host,
    runtime: prov.runtime,
    dependencies: prov.dependencies,
    code: keptCodeField(kept),
    ...finishFields(finish),
  };
  if (sampler && sampler.failures > 0) final.system_sample_failures = sampler.failures;
  if (conversion.system) final.system = { ...conversion.system };
  if (conversion.rejectedLines > 0) final.metrics_rejected_lines = conversion.rejectedLines;
  if (full) final.error = { type: full._tag, message: full.message };
  if (options.beforeSeal && !full) Object.assign(final, await options.beforeSeal(dir, runId));
  const summaryFile = path.join(dir, 'summary.msgpack');
  const sealed = await sealRunDir(
    dir,
    final as RunManifest,
    { status, summary: { ...(await readSummary(summaryFile)), ...(finish?.summary ?? {}) } },
    (options.durability ?? vault.config.durability) === 'batch'
      ? { commit: groupCommitFor(vault.root), specimenId }
      : undefined,
  );
  if (full) {
    options.onWarning?.(`run: ${runId} sealed as failed: the disk filled while it was written`);
    throw full;
  }
  return {
    runId,
    runDir: dir,
    // Sealing may have decided otherwise (a metrics file it could not read fails the run).
    status: sealed.status as Exclude<RunStatus, 'running'>,
    exitCode,
    signal: exit.signal,
    durationS,
    manifest: sealed,
    conversion,
  };
}

/** Signals the child's process group, falling back to the child alone. */
function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    child.kill(sig);
  }
}

/** A protocol using SpecimenStorage.finish({summary}) inside the runner leaves its summary here. */
async function readSummary(file: string): Promise<PlainObject> {
  try {
    const { readManifestFile } = await import('../format/msgpack.js');
    const s = await readManifestFile(file);
    await fsp.rm(file);
    return s;
  } catch {
    return {};
  }
}
