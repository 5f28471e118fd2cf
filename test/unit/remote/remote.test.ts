// The remote path's pure parts: config parsing, listing → runs, and the merges that keep both hosts' edits.
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { parseRemoteConfig } from '../../../src/remote/config.js';
import { groupRuns } from '../../../src/remote/layout.js';
import { mergeMaps, mergeNotes } from '../../../src/remote/merge.js';

describe('remote config', () => {
  it('splits the URL and fills the defaults', () => {
    const c = parseRemoteConfig({ url: 's3://team-vault/ml/lab/', endpoint: 'http://127.0.0.1:9000' });
    expect(c).toMatchObject({
      bucket: 'team-vault',
      prefix: 'ml/lab',
      region: 'us-east-1',
      forcePathStyle: true,
      pushOnSeal: false,
      pushRetries: 5,
      concurrency: 16,
    });
    expect(parseRemoteConfig({ url: 's3://bucket' })).toMatchObject({ prefix: '', forcePathStyle: false });
  });

  it('names the offending field', () => {
    for (const [value, field] of [
      [{ url: 'https://bucket' }, 'remote.url'],
      [{ url: 's3://ok-bucket', endpoint: 'not a url' }, 'remote.endpoint'],
      [{ url: 's3://ok-bucket', concurrency: 0 }, 'remote.concurrency'],
      ['s3://bucket', 'remote'],
    ] as const) {
      let err: unknown;
      try {
        parseRemoteConfig(value);
      } catch (e) {
        err = e;
      }
      expect(isVaultError(err, 'RemoteConfigError')).toBe(true);
      expect((err as Error).message).toContain(`"${field}"`);
    }
  });
});

describe('groupRuns', () => {
  it('groups keys by run, marks runs with a manifest committed, and drops unsafe names', () => {
    const p = 'specimens/2025_01_02_x/runs/';
    const listed = [
      `${p}20250102_101500/metrics.parquet`,
      `${p}20250102_101500/manifest.msgpack`,
      `${p}20250102_101500/w.zarr/.zarray`,
      `${p}20250102_101600/metrics.parquet`,
      `${p}../manifest.msgpack`,
      `${p}.tmp/manifest.msgpack`,
      `${p}20250102_101700/../../x`,
    ].map((key) => ({ key, size: 1, etag: '"e"' }));
    const runs = groupRuns('2025_01_02_x', listed);
    expect([...runs.keys()]).toEqual(['20250102_101500', '20250102_101600']);
    expect(runs.get('20250102_101500')?.committed).toBe(true);
    expect([...(runs.get('20250102_101500')?.objects.keys() ?? [])]).toContain('w.zarr/.zarray');
    expect(runs.get('20250102_101600')?.committed).toBe(false);
  });
});

describe('mergeNotes', () => {
  const base = '# Notes\n\n## Observations\n';
  it('keeps both sides’ appended lines, theirs first', () => {
    expect(mergeNotes(base, `${base}- ours\n`, `${base}- theirs\n`, 'host-a')).toBe(
      `${base}- theirs\n- ours\n`,
    );
  });
  it('takes the longer text when one side only extends the other', () => {
    expect(mergeNotes(base, `${base}- a\n`, base, 'h')).toBe(`${base}- a\n`);
    expect(mergeNotes(base, base, `${base}- b\n`, 'h')).toBe(`${base}- b\n`);
  });
  it('keeps every line of an overlapping edit under a marker', () => {
    const ours = '# Notes\n\nrewritten by us\n';
    const theirs = `${base}- theirs\n`;
    const merged = mergeNotes(base, ours, theirs, 'host-a');
    expect(merged.startsWith(theirs)).toBe(true);
    expect(merged).toContain('lines from host-a that overlapped a concurrent edit');
    expect(merged).toContain('rewritten by us');
  });
});

describe('mergeMaps', () => {
  const base = { description: 'd', status: 'active', tags: ['a'] };
  it('takes each side’s own changes and unions string lists', () => {
    expect(
      mergeMaps(
        base,
        { ...base, description: 'ours', tags: ['a', 'x'] },
        { ...base, status: 'archived', tags: ['a', 'y'] },
      ),
    ).toEqual({ merged: { description: 'ours', status: 'archived', tags: ['a', 'y', 'x'] }, conflicts: [] });
  });
  it('reports a field both sides set differently', () => {
    expect(mergeMaps(base, { ...base, status: 'archived' }, { ...base, status: 'deprecated' })).toEqual({
      conflicts: ['status'],
    });
  });
  it('keeps deletions made on one side', () => {
    const { description: _, ...withoutDescription } = base;
    expect(mergeMaps(base, withoutDescription, base).merged).toEqual(withoutDescription);
  });
});
