/**
 * Provenance of a run: what `specimen run` records so the run can be understood and re-executed later —
 * git state of the vault, host, runtime versions and dependency fingerprints. Every probe is best effort
 * and bounded in time: a missing git, nvidia-smi or pip is recorded as absent, never an error.
 *
 * @example
 * const p = await captureProvenance({ cwd: specimenDir, python: 'python3' })
 * p.git?.commit   // '3f2a…' when the vault is in a git work tree
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlainObject } from '../format/msgpack.js';

/** Runs a command with a timeout; resolves stdout, or undefined when it is missing or fails. */
function probe(cmd: string, args: string[], cwd?: string, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout) => resolve(err ? undefined : stdout),
    );
  });
}

/** Git state of the work tree holding `cwd`: commit, branch, dirty flag and sha256 of the diff against HEAD. */
export async function gitState(cwd: string): Promise<PlainObject | null> {
  // One process answers root, commit and branch; outside a work tree it is the only one started.
  const head = await probe('git', ['rev-parse', '--show-toplevel', 'HEAD', '--abbrev-ref', 'HEAD'], cwd);
  if (!head) return null;
  const [top, commit, branch] = head.trim().split('\n');
  const status = await probe('git', ['status', '--porcelain', '--untracked-files=no'], cwd);
  const dirty = (status ?? '').trim().length > 0;
  const diff = dirty ? await probe('git', ['diff', 'HEAD', '--binary'], cwd) : undefined;
  return {
    root: top ?? null,
    commit: commit ?? null,
    branch: branch ?? null,
    dirty,
    diff_sha256: dirty && diff ? createHash('sha256').update(diff).digest('hex') : null,
  };
}

/** Whether `cmd` is an executable on PATH (checked without starting a process). */
function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, cmd))) return true;
  }
  return false;
}

/** The machine: OS, CPU model, cores, memory, GPUs (from nvidia-smi when present). */
export async function hostInfo(): Promise<PlainObject> {
  const cpus = os.cpus();
  const gpuCsv = onPath('nvidia-smi')
    ? await probe(
        'nvidia-smi',
        ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
        undefined,
        3000,
      )
    : undefined;
  const gpus = (gpuCsv ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, memory, driver] = l.split(',').map((x) => x.trim());
      return { name: name ?? '', memory: memory ?? '', driver: driver ?? '' };
    });
  return {
    hostname: os.hostname(),
    os: `${os.type()} ${os.release()}`,
    platform: os.platform(),
    arch: os.arch(),
    cpu_model: cpus[0]?.model ?? 'unknown',
    cpu_cores: cpus.length,
    memory_bytes: os.totalmem(),
    gpus,
  };
}

/** sha256 of a file, or undefined when it does not exist. */
function fileSha256(file: string): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Nearest directory at or above `start` holding `name`, not above `stop` (inclusive). */
function findUp(start: string, name: string, stop?: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, name))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir || (stop && dir === path.resolve(stop))) return undefined;
    dir = parent;
  }
}

/**
 * Node dependency fingerprint of the project around `cwd`: sha256 of package.json and of the lockfile and
 * the resolved versions of direct dependencies (from package-lock.json, else node_modules).
 */
export function nodeDependencies(cwd: string): PlainObject | null {
  const dir = findUp(cwd, 'package.json');
  if (!dir) return null;
  const pkgFile = path.join(dir, 'package.json');
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } = {};
  try {
    pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  } catch {
    // An unreadable package.json is still fingerprinted below.
  }
  const lockName = ['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock'].find((f) =>
    fs.existsSync(path.join(dir, f)),
  );
  let lock: { packages?: Record<string, { version?: string }> } = {};
  if (lockName?.endsWith('.json')) {
    try {
      lock = JSON.parse(fs.readFileSync(path.join(dir, lockName), 'utf8'));
    } catch {
      lock = {};
    }
  }
  const resolved: PlainObject = {};
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    let version = lock.packages?.[`node_modules/${name}`]?.version;
    if (!version) {
      try {
        version = JSON.parse(
          fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'),
        ).version;
      } catch {
        version = undefined;
      }
    }
    resolved[name] = version ?? null;
  }
  return {
    package_json: path.relative(cwd, pkgFile) || 'package.json',
    package_json_sha256: fileSha256(pkgFile) ?? null,
    lockfile: lockName ?? null,
    lockfile_sha256: lockName ? (fileSha256(path.join(dir, lockName)) ?? null) : null,
    resolved,
  };
}

/** `python --version` and, when pip is present, `pip freeze` of that interpreter. */
export async function pythonInfo(python: string): Promise<PlainObject | null> {
  const version = await probe(python, [
    '-c',
    'import sys; print(sys.version.split()[0]); print(sys.executable)',
  ]);
  if (!version) return null;
  const [v, exe] = version.trim().split('\n');
  const freeze = await probe(
    python,
    ['-m', 'pip', 'freeze', '--disable-pip-version-check'],
    undefined,
    20_000,
  );
  return {
    version: v ?? null,
    executable: exe ?? null,
    pip_freeze: freeze ? freeze.split('\n').filter((l) => l.trim()) : null,
  };
}

/** Everything above, gathered in parallel. */
export async function captureProvenance(options: { cwd: string; python?: string }): Promise<{
  git: PlainObject | null;
  host: PlainObject;
  runtime: PlainObject;
  dependencies: PlainObject;
}> {
  const [git, host, python] = await Promise.all([
    gitState(options.cwd),
    hostInfo(),
    options.python ? pythonInfo(options.python) : Promise.resolve(null),
  ]);
  const runtime: PlainObject = { node: process.version };
  if (python) runtime.python = python.version ?? null;
  const dependencies: PlainObject = { node: nodeDependencies(options.cwd) };
  if (python)
    dependencies.python = { executable: python.executable ?? null, pip_freeze: python.pip_freeze ?? null };
  return { git, host, runtime, dependencies };
}
