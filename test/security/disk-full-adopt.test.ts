// Disk full while adopting: a staged Python run whose writer was killed once the disk was full is adopted
// in the room its finish reserve held (a vault on its own 3 MiB tmpfs, so no DuckDB of this process sits
// on the disk that fills; skipped where tmpfs cannot be mounted, e.g. without root). The adopting CLI
// runs in a child process.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/helpers.js';

const mountPoint = tempDir('sv-full-adopt-');
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

afterAll(() => {
  if (mounted) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    }
  }
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)('disk full while adopting', () => {
  const root = path.join(mountPoint, 'vault');
  const id = '2025_01_02_full';

  it('adopts a staged run whose writer died on the full disk, in the room the writer set aside', async () => {
    // A Python writer killed once the disk was full: its stage holds both reserves it set aside.
    expect((await runCli(['init', root])).code).toBe(0);
    const made = await runCli([
      'new',
      id,
      '--domain',
      'training',
      '--method',
      'fine_tuning',
      '--vault',
      root,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const stage = path.join(root, 'specimens', id, 'pending', '20260102_121500-1-abcdef');
    fs.mkdirSync(stage, { recursive: true });
    const dead = { pid: 2 ** 22 + 4321, host: os.hostname() };
    fs.writeFileSync(
      path.join(stage, 'begin.json'),
      JSON.stringify({ started: '2026-01-02T12:15:00.000Z', owner: dead }),
    );
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ step: i, loss: 1 / (i + 1) })).join(
      '\n',
    );
    fs.writeFileSync(path.join(stage, 'metrics.jsonl'), `${lines}\n`);
    fs.writeFileSync(path.join(stage, '.tmp-finish-reserve'), Buffer.alloc(64 * 1024));
    fs.writeFileSync(path.join(stage, '.tmp-space-reserve'), Buffer.alloc(128 * 1024));
    const filler = path.join(mountPoint, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    try {
      const r = await runCli(['adopt', id, '--json', '--vault', root]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { adopted: { run_id: string; status: string }[] };
      expect(report.adopted.map((a) => [a.run_id, a.status])).toEqual([['20260102_121500', 'interrupted']]);
      expect(fs.existsSync(stage)).toBe(false);
      const runDir = path.join(root, 'specimens', id, 'runs', '20260102_121500');
      expect(fs.readdirSync(runDir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
      fs.rmSync(filler);
      const verify = await runCli(['verify', id, '--vault', root]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const rows = await runCli([
        'query',
        `SELECT count(*) AS n FROM runs WHERE run_id = '20260102_121500'`,
        '--format',
        'json',
        '--vault',
        root,
      ]);
      expect(rows.code, rows.stderr).toBe(0);
    } finally {
      fs.rmSync(filler, { force: true });
    }
  });
});
