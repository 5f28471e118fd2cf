// A real Python training process using this checkout's `specimen_vault` package, for tests that watch a
// run while it is written: it logs a row every 20 ms and samples system metrics every 0.2 s until the test
// creates its `stop` file, then finishes normally. With `cli: false` no CLI is reachable, so the run is
// staged in the specimen's pending/ directory (the cluster case) instead of begun through `specimen begin`.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, REPO_ROOT } from './helpers.js';

// The package is pure Python with no required dependency: any CPython 3 runs it from python/.
export const PYTHON = process.env.SPECIMEN_TEST_PYTHON ?? 'python3';

function script(specimenId: string, name: string | undefined): string {
  return `
import os, sys, time
import specimen_vault as sv
run = sv.init(${JSON.stringify(specimenId)}, config={"lr": 0.01}, seed=7${name ? `, name=${JSON.stringify(name)}` : ''})
sys.__stdout__.write(f"RUN {run.run_id} {run.dir}\\n"); sys.__stdout__.flush()
step = 0
while not os.path.exists("stop"):
    sv.log({"loss": 1.0 / (step + 1)}, step=step)
    if step % 10 == 0:
        print(f"training step {step}", flush=True)
    step += 1
    time.sleep(0.02)
print("done training")
sv.finish()
`;
}

/** A Python run in progress. */
export interface PythonRun {
  child: ChildProcess;
  /** The run ID (`None` for a pending run, whose ID is given when it is adopted). */
  runId: string;
  /** The directory the run is written in (runs/<id>/ or pending/<stage>/). */
  runDir: string;
  /** Ends training; resolves with the exit code and stderr once the process has finished. */
  stop(): Promise<{ code: number | null; stderr: string }>;
  /** Kills the process if it is still running (afterAll). */
  kill(): void;
}

/** Starts the training script in `cwd` against the vault at `vaultRoot`; resolves once the run began. */
export async function startPythonRun(options: {
  vaultRoot: string;
  specimenId: string;
  cwd: string;
  name?: string;
  cli?: boolean;
}): Promise<PythonRun> {
  fs.mkdirSync(options.cwd, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPECIMEN_'))),
    PYTHONPATH: path.join(REPO_ROOT, 'python'),
    SPECIMEN_VAULT: options.vaultRoot,
    SPECIMEN_SYSTEM_INTERVAL: '0.2',
  };
  // `none` says that no CLI is reachable (the package then stages the run in pending/).
  env.SPECIMEN_CLI = options.cli === false ? 'none' : `${process.execPath} ${CLI}`;
  const child = spawn(PYTHON, ['-c', script(options.specimenId, options.name)], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const [runId, runDir] = await new Promise<[string, string]>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /RUN (\S+) (.+)\n/.exec(out);
      if (m) {
        clearInterval(t);
        resolve([m[1]!, m[2]!]);
      } else if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`python exited ${child.exitCode}: ${err}`));
      }
    }, 50);
  });
  return {
    child,
    runId,
    runDir,
    async stop() {
      fs.writeFileSync(path.join(options.cwd, 'stop'), '');
      return { code: await exited, stderr: err };
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
