/**
 * `specimen session [--vault DIR]`: a long-lived helper that begins and seals runs for another process —
 * the Python package keeps one per interpreter — over its stdin and stdout, one JSON object per line, so
 * a sweep of short runs pays Node's start-up once instead of twice per run. Each request is answered in
 * order with the same fields `specimen begin --json` and `specimen seal --json` print; a failure is
 * answered with the exit code and message the command would have given. Provenance (git, host,
 * dependencies) and the git diff kept with the code are captured once per working directory and
 * interpreter. Seals follow `--durability` (a
 * request's `durability` overrides it; default the vault's, else `batch`: runs are fsynced together within
 * a second). The helper ends when its stdin closes, once every run it sealed is durable.
 *
 * @example
 * specimen session --vault ./vault
 * > {"id": 1, "op": "begin", "specimen": "2026_01_02_probe", "request": {"config": {"lr": 0.1}}}
 * < {"id": 1, "ok": true, "result": {"specimen_id": "2026_01_02_probe", "run_id": "20260102_101500", …}}
 * > {"id": 2, "op": "seal", "specimen": "2026_01_02_probe", "run": "20260102_101500"}
 * < {"id": 2, "ok": true, "result": {"status": "succeeded", "rows": 100, "tensors": [], …}}
 * > {"id": 3, "op": "seal", "specimen": "nope", "run": "x"}
 * < {"id": 3, "ok": false, "code": 3, "message": "…"}
 */
import readline from 'node:readline';
import { settleDirSyncs } from '../../format/atomic-write.js';
import { beginRun, parseBeginRequest, sealExternalRun } from '../../runner/external-run.js';
import { type Durability, flushGroupCommits, parseDurabilityFlag } from '../../storage/durability.js';
import { Vault } from '../../storage/vault.js';
import { exitCodeOf, UsageError } from '../exit.js';

const STATUSES = ['succeeded', 'failed', 'interrupted'] as const;

interface SessionRequest {
  id?: unknown;
  op?: unknown;
  /** Vault root of this request (default: the session's --vault, or the nearest one). */
  vault?: unknown;
  specimen?: unknown;
  run?: unknown;
  status?: unknown;
  request?: unknown;
  /** `run` or `batch` for this seal (default: the session's --durability, else the vault's). */
  durability?: unknown;
}

export default async function session(opts: { vault?: string; durability?: string }): Promise<number> {
  const durability: Durability | undefined =
    opts.durability === undefined ? undefined : parseDurabilityFlag(opts.durability);
  const vaults = new Map<string, Promise<Vault>>();
  const provenanceCache = new Map();
  const gitCodeCache = new Map();
  const openVault = (root: string | undefined): Promise<Vault> => {
    const key = root ?? opts.vault ?? '';
    let v = vaults.get(key);
    if (!v) {
      v = Vault.open(root ?? opts.vault);
      vaults.set(key, v);
      v.catch(() => vaults.delete(key));
    }
    return v;
  };
  const handle = async (req: SessionRequest): Promise<unknown> => {
    const str = (v: unknown, what: string): string => {
      if (typeof v !== 'string' || v === '')
        throw new UsageError(`session: "${what}" must be a non-empty string`);
      return v;
    };
    const vault = await openVault(req.vault === undefined ? undefined : str(req.vault, 'vault'));
    switch (req.op) {
      case 'begin':
        return beginRun(vault, str(req.specimen, 'specimen'), parseBeginRequest(req.request ?? {}), {
          provenanceCache,
          gitCodeCache,
        });
      case 'seal': {
        const status = req.status;
        if (status !== undefined && !STATUSES.includes(status as (typeof STATUSES)[number]))
          throw new UsageError(
            `session: "status" must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
          );
        const warnings: string[] = [];
        const mode =
          req.durability === undefined
            ? durability
            : parseDurabilityFlag(req.durability, 'session: "durability"');
        const result = await sealExternalRun(vault, str(req.specimen, 'specimen'), str(req.run, 'run'), {
          ...(status ? { status: status as (typeof STATUSES)[number] } : {}),
          ...(mode ? { durability: mode } : {}),
          onWarning: (m) => warnings.push(m),
        });
        return { ...result, warnings };
      }
      default:
        throw new UsageError(`session: "op" must be "begin" or "seal", got ${JSON.stringify(req.op)}`);
    }
  };
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  // Requests are answered one at a time, in order: a writer waits for each answer anyway.
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let id: unknown = null;
    let reply: unknown;
    try {
      let req: SessionRequest;
      try {
        req = JSON.parse(line) as SessionRequest;
      } catch (err) {
        throw new UsageError(`session: a request is not valid JSON: ${(err as Error).message}`);
      }
      if (req === null || typeof req !== 'object' || Array.isArray(req))
        throw new UsageError('session: a request must be a JSON object');
      id = req.id ?? null;
      reply = { id, ok: true, result: await handle(req) };
    } catch (err) {
      reply = {
        id,
        ok: false,
        code: exitCodeOf(err),
        message: err instanceof Error ? err.message : String(err),
      };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
  await Promise.all([settleDirSyncs(), flushGroupCommits()]);
  return 0;
}
