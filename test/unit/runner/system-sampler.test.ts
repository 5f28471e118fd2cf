import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseNvidiaSmi,
  parsePs,
  procUnitsOnce,
  SystemSampler,
  type SystemSource,
} from '../../../src/runner/system-sampler.js';
import { tempDir } from '../../support/helpers.js';

describe('parseNvidiaSmi', () => {
  it('sums utilisation and memory (MiB) over the GPUs', () => {
    expect(parseNvidiaSmi('35, 1024\n65, 512\n')).toEqual({ util: 100, memory: 1536 * 1024 * 1024 });
  });
  it('skips lines that do not parse and says when none do', () => {
    expect(parseNvidiaSmi('[N/A], 100\n10, 1\n')).toEqual({ util: 10, memory: 1024 * 1024 });
    expect(parseNvidiaSmi('No devices were found\n')).toBeUndefined();
  });
});

describe('parsePs', () => {
  it('reads pid, ppid, RSS (KiB) and %cpu, skipping lines that do not parse', () => {
    const t = parsePs('    1     0 14940  0.6\n  812     1  2048 12.5\nPID PPID RSS %CPU\n\n');
    expect([...t.entries()]).toEqual([
      [1, { ppid: 0, rss: 14940 * 1024, pcpu: 0.6 }],
      [812, { ppid: 1, rss: 2048 * 1024, pcpu: 12.5 }],
    ]);
  });
});

describe.runIf(process.platform === 'linux')('SystemSampler on a real process tree', () => {
  it('asks getconf for the page size instead of assuming 4 KiB', async () => {
    const { execFileSync } = await import('node:child_process');
    const units = await procUnitsOnce();
    expect(units.pageSize).toBe(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()));
  });

  it('the ps fallback (forced here) sees the RSS /proc sees for a child holding 200 MiB', async () => {
    // A parent whose child allocates and touches 200 MiB: the tree's RSS is summed over both.
    const code =
      "const {spawn}=require('child_process');" +
      "const c=spawn(process.execPath,['-e',\"const b=Buffer.alloc(200*2**20,1);console.log('ready');setInterval(()=>b[0]++,1000)\"],{stdio:['ignore','inherit','inherit']});" +
      'process.on("SIGTERM",()=>{c.kill();process.exit(0)});setInterval(()=>{},1000)';
    const parent = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        parent.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        parent.on('exit', () => reject(new Error('the allocating process exited')));
      });
      const rssOf = async (source: SystemSource): Promise<number> => {
        const dir = tempDir(`sv-sampler-${source}-`);
        const sampler = new SystemSampler({ dir, pid: parent.pid!, intervalS: 3600, source });
        sampler.start();
        await sampler.stop();
        expect(sampler.failures).toBe(0);
        const rows = fs
          .readFileSync(path.join(dir, 'system.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { rss_bytes: number; cpu_percent: number | null });
        expect(rows.length).toBe(2);
        if (source === 'ps') expect(rows[0]!.cpu_percent).toBeGreaterThanOrEqual(0);
        return rows.at(-1)!.rss_bytes;
      };
      const proc = await rssOf('proc');
      const ps = await rssOf('ps');
      expect(proc).toBeGreaterThan(200 * 2 ** 20);
      expect(ps).toBeGreaterThan(200 * 2 ** 20);
      expect(Math.abs(ps - proc) / proc).toBeLessThan(0.05);
    } finally {
      parent.kill('SIGTERM');
    }
  }, 60_000);
});
