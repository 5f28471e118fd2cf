/**
 * `specimen begin <ID> [--request FILE|-] [--json]`: creates a run for another process (the Python package)
 * to write into and prints its ID and directory. The request is the JSON object of `BeginRequest` (config,
 * seed, name, tags, notes, owner, command, cwd, python); the run stays `running` until `specimen seal`.
 *
 * @example
 * echo '{"config": {"lr": 0.1}, "seed": 3}' | specimen begin 2026_01_02_probe --request - --json
 * # {"specimen_id":"2026_01_02_probe","run_id":"20260102_101500","run_dir":"/…/runs/20260102_101500",…}
 */
import fsp from 'node:fs/promises';
import { beginRun, parseBeginRequest } from '../../runner/external-run.js';
import { Vault } from '../../storage/vault.js';
import { UsageError } from '../exit.js';

/** Reads a JSON request from a file, or from stdin for `-`. */
export async function readJsonRequest(source: string | undefined): Promise<unknown> {
  if (source === undefined) return {};
  let text: string;
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else text = await fsp.readFile(source, 'utf8');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--request: ${source === '-' ? 'stdin' : source} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

export default async function begin(
  id: string,
  opts: { request?: string; json?: boolean; provenance?: boolean; vault?: string },
): Promise<number> {
  const request = parseBeginRequest(await readJsonRequest(opts.request));
  const vault = await Vault.open(opts.vault);
  const result = await beginRun(vault, id, request, { provenance: opts.provenance ?? true });
  if (opts.json) console.log(JSON.stringify(result));
  else console.log(`run ${result.run_id} of ${id} begun: ${result.run_dir}`);
  return 0;
}
