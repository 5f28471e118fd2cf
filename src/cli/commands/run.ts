/**
 * `specimen run <ID> [--seed N] [--set key=value]… [--python PATH] [-- COMMAND ARGS…]`: executes the
 * specimen's protocol in a new run. Exits with the protocol's exit code (130 when interrupted).
 */
import type { PlainObject, PlainValue } from '../../format/msgpack.js';
import { runProtocol } from '../../runner/run-protocol.js';
import { parseDurabilityFlag } from '../../storage/durability.js';
import { Vault } from '../../storage/vault.js';
import { protocolExitCode, UsageError } from '../exit.js';
import { formatDuration, keepRunningWhenOutputCloses, painter } from '../output.js';

export interface RunOptions {
  seed?: string;
  set?: string[];
  python?: string;
  push?: boolean;
  vault?: string;
  /** `--system-interval`. */
  systemInterval?: string;
  /** false with `--no-system`. */
  system?: boolean;
  /** `--durability run|batch`. */
  durability?: string;
}

/** `--system-interval` and `--no-system` as runProtocol's systemIntervalS (undefined: the vault's default). */
export function parseSystemInterval(
  opts: Pick<RunOptions, 'systemInterval' | 'system'>,
): number | null | undefined {
  if (opts.system === false) return null;
  if (opts.systemInterval === undefined) return undefined;
  const v = Number(opts.systemInterval);
  if (opts.systemInterval.trim() === '' || !Number.isFinite(v) || v <= 0)
    throw new UsageError(
      `--system-interval must be a positive number of seconds, got ${JSON.stringify(opts.systemInterval)} (--no-system turns sampling off)`,
    );
  return v;
}

/** Parses `--seed`: a non-negative integer. */
export function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`--seed must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Parses `--set key=value` pairs into a config object. Values are JSON (`lr=0.1`, `layers=[1,2]`,
 * `name="x"`); a bare word that is not JSON-shaped (`optimizer=adam`) is taken as a string. A value that
 * looks like JSON but does not parse is an error naming it. Dotted keys nest: `opt.lr=0.1`.
 */
export function parseSets(sets: readonly string[] = []): PlainObject {
  const config: PlainObject = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key=value, got ${JSON.stringify(s)}`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(key))
      throw new UsageError(`--set key ${JSON.stringify(key)} must be an identifier (dots nest: opt.lr=0.1)`);
    let value: PlainValue;
    try {
      value = JSON.parse(raw) as PlainValue;
    } catch {
      if (/^[[{"\d.+-]/.test(raw) || ['true', 'false', 'null'].includes(raw.trim()) || raw.trim() === '')
        throw new UsageError(
          `--set ${key}: value ${JSON.stringify(raw)} is not valid JSON (numbers like 0.1, strings in double quotes like '"adam"', arrays like [1,2])`,
        );
      value = raw;
    }
    const parts = key.split('.');
    let obj = config;
    for (const p of parts.slice(0, -1)) {
      const next = obj[p];
      if (next === undefined) obj[p] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next))
        throw new UsageError(`--set ${key}: ${p} is already set to a non-object value`);
      obj = obj[p] as PlainObject;
    }
    obj[parts.at(-1)!] = value;
  }
  return config;
}

export default async function run(id: string, command: string[], opts: RunOptions): Promise<number> {
  // The run is sealed even when the reader of its echoed output goes away (`specimen run x | head`).
  keepRunningWhenOutputCloses();
  const seed = parseSeed(opts.seed);
  const config = parseSets(opts.set);
  const systemIntervalS = parseSystemInterval(opts);
  const vault = await Vault.open(opts.vault);
  const paint = painter(process.stderr);
  const result = await runProtocol({
    vault,
    specimenId: id,
    ...(seed !== undefined ? { seed } : {}),
    config,
    ...(command.length > 0 ? { command } : {}),
    ...(opts.python ? { python: opts.python } : {}),
    ...(systemIntervalS !== undefined ? { systemIntervalS } : {}),
    ...(opts.durability !== undefined ? { durability: parseDurabilityFlag(opts.durability) } : {}),
    onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
  });
  const colour = result.status === 'succeeded' ? 'green' : result.status === 'failed' ? 'red' : 'yellow';
  process.stderr.write(
    `${paint('bold', 'run')} ${result.runId} of ${id}: ${paint(colour, result.status)}` +
      ` (exit ${result.exitCode ?? '-'}${result.signal ? `, ${result.signal}` : ''}, ${formatDuration(result.durationS)}` +
      `${result.conversion.rows > 0 ? `, ${result.conversion.rows} metric rows` : ''}` +
      `${result.conversion.tensors.length > 0 ? `, tensors ${result.conversion.tensors.join(', ')}` : ''})\n`,
  );
  if (opts.push || vault.config.raw.remote !== undefined) {
    // The remote code (and the AWS SDK) is loaded only for vaults that push.
    const { pushOnSealConfigured, pushSealedRun } = await import('../../remote/push-on-seal.js');
    if (opts.push || pushOnSealConfigured(vault)) {
      const pushed = await pushSealedRun(vault, id, result.runId, {
        onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
      });
      if (pushed !== 'kept-local')
        process.stderr.write(`${paint('bold', 'pushed')} ${result.runId} to the remote\n`);
    }
  }
  return protocolExitCode(result.status, result.exitCode);
}
