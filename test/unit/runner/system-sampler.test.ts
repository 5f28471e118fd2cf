import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi } from '../../../src/runner/system-sampler.js';

describe('parseNvidiaSmi', () => {
  it('sums utilisation and memory (MiB) over the GPUs', () => {
    expect(parseNvidiaSmi('35, 1024\n65, 512\n')).toEqual({ util: 100, memory: 1536 * 1024 * 1024 });
  });
  it('skips lines that do not parse and says when none do', () => {
    expect(parseNvidiaSmi('[N/A], 100\n10, 1\n')).toEqual({ util: 10, memory: 1024 * 1024 });
    expect(parseNvidiaSmi('No devices were found\n')).toBeUndefined();
  });
});
