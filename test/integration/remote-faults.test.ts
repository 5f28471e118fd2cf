// Faults and concurrency against a real S3-compatible server (versitygw), every host a separate CLI
// process with its own local vault: many hosts pushing to one specimen at once, the server killed in the
// middle of an upload, and two hosts editing the same specimen's notes and manifest at once.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Vault } from '../../src/storage/vault.js';
import {
  addRuns,
  addSpecimen,
  cloneRuns,
  localRunIds,
  SPECIMEN,
  teamVault,
} from '../support/remote-vault.js';
import { s3ServerBinary, type TestS3Server, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;

/** Every object file the server holds under `prefix` of `bucket`, relative to it. */
function objectsOnDisk(server: TestS3Server, bucket: string, prefix: string): string[] {
  const root = server.objectFile(bucket, prefix);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter((p) =>
    fs.statSync(path.join(root, p)).isFile(),
  );
}

describe.skipIf(!HAVE_SERVER)('team vault faults and concurrency', () => {
  const s3 = useS3Server('team');
  const cli = (args: string[]) => s3.cli(args, 300_000);

  it('four hosts pushing 50 runs each to the same specimen at once: 200 runs, all verifying after pull', async () => {
    // 200 distinct sealed runs are made in one vault (so their IDs differ), then dealt out to four hosts.
    const maker = await teamVault(s3.server(), 'team', { prefix: 'hosts' });
    await addSpecimen(maker);
    const [template] = await addRuns(maker, 1, { steps: 1000, tensorRows: 0 });
    const runs = [template!, ...(await cloneRuns(maker, template!, 199))];
    const hosts = await Promise.all(
      [0, 1, 2, 3].map(() => teamVault(s3.server(), 'team', { prefix: 'hosts' })),
    );
    hosts.forEach((h, i) => {
      const dir = h.specimenDir(SPECIMEN);
      fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
      for (const f of ['manifest.msgpack', 'field_notes.md'])
        fs.copyFileSync(path.join(maker.specimenDir(SPECIMEN), f), path.join(dir, f));
      for (const r of runs.slice(i * 50, (i + 1) * 50))
        fs.cpSync(path.join(maker.specimenDir(SPECIMEN), 'runs', r), path.join(dir, 'runs', r), {
          recursive: true,
        });
    });
    const results = await Promise.all(hosts.map((h) => cli(['push', '--vault', h.root])));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('pushed 50 run(s)');
    }
    const fresh = await teamVault(s3.server(), 'team', { prefix: 'hosts' });
    const pulled = await cli(['pull', '--all', '--vault', fresh.root]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(localRunIds(fresh)).toEqual([...runs].sort());
    const verified = await cli(['verify', '--vault', fresh.root]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('200 sealed run(s) verified, 0 modified');
  }, 300_000);

  it('server killed in the middle of an upload: no partial run is visible, the next push completes it', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'killed' });
    await addSpecimen(a);
    // Many objects per run, so the upload is still under way when the s3.server() dies.
    const [template] = await addRuns(a, 1, { steps: 100 });
    const runs = [template!, ...(await cloneRuns(a, template!, 3, { blobs: 300, blobBytes: 32 * 1024 }))];
    const push = cli(['push', '--vault', a.root]);
    const started = Date.now();
    while (
      objectsOnDisk(s3.server(), 'team', 'killed/specimens').filter((p) => p.includes('/runs/')).length < 100
    ) {
      if (Date.now() - started > 60_000) throw new Error('push never started uploading');
      await new Promise((r) => setTimeout(r, 5));
    }
    await s3.server().kill();
    const failed = await push;
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('cannot reach');
    expect(failed.stderr).not.toMatch(/\n\s+at /);

    await s3.server().restart();
    const committed = runs.filter((r) =>
      fs.existsSync(
        s3.server().objectFile('team', `killed/specimens/${SPECIMEN}/runs/${r}/manifest.msgpack`),
      ),
    );
    expect(committed.length).toBeLessThan(runs.length); // the kill landed before every run was committed
    const reader = await teamVault(s3.server(), 'team', { prefix: 'killed' });
    const early = await cli(['pull', '--all', '--vault', reader.root]);
    expect(early.code, early.stderr).toBe(0);
    expect(localRunIds(reader)).toEqual(committed); // only committed runs, each whole
    expect((await cli(['verify', '--vault', reader.root])).code).toBe(0);
    const partial = await cli(['verify', '--remote', '--vault', reader.root]);
    expect(partial.code).toBe(0);
    // Runs with some objects up but no manifest are reported as uncommitted (runs not begun are not listed).
    const uncommitted = Number(/(\d+) uncommitted/.exec(partial.stdout)?.[1]);
    expect(uncommitted).toBeGreaterThanOrEqual(1);
    expect(uncommitted).toBeLessThanOrEqual(runs.length - committed.length);

    const resumed = await cli(['push', '--vault', a.root]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`pushed ${runs.length - committed.length} run(s)`);
    const late = await cli(['pull', '--all', '--vault', reader.root]);
    expect(late.code, late.stderr).toBe(0);
    expect(localRunIds(reader)).toEqual(runs);
    const verified = await cli(['verify', '--vault', reader.root]);
    expect(verified.stdout).toContain(`${runs.length} sealed run(s) verified, 0 modified`);
    const remote = await cli(['verify', '--remote', '--vault', reader.root]);
    expect(remote.stdout).toContain(`${runs.length} remote run(s) verified, 0 corrupt, 0 uncommitted`);
  }, 180_000);

  /** Host A creates the specimen and pushes it; host B pulls it: both start from the same version. */
  async function twoHostsSharing(prefix: string): Promise<[Vault, Vault]> {
    const a = await teamVault(s3.server(), 'team', { prefix });
    await addSpecimen(a);
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const b = await teamVault(s3.server(), 'team', { prefix });
    expect((await cli(['pull', SPECIMEN, '--vault', b.root])).code).toBe(0);
    return [a, b];
  }

  it('two hosts editing the same notes at once: both edits are kept on both hosts', async () => {
    const [a, b] = await twoHostsSharing('notes');
    const ROUNDS = 5;
    const notes = (v: typeof a) => path.join(v.specimenDir(SPECIMEN), 'field_notes.md');
    for (let round = 0; round < ROUNDS; round++) {
      fs.appendFileSync(notes(a), `- host A, round ${round}: loss plateaus at step 400\n`);
      fs.appendFileSync(notes(b), `- host B, round ${round}: accuracy jumps after weight decay\n`);
      const [ra, rb] = await Promise.all([
        cli(['push', '--vault', a.root]),
        cli(['push', '--vault', b.root]),
      ]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      expect((await cli(['sync', '--vault', a.root])).code).toBe(0);
      expect((await cli(['sync', '--vault', b.root])).code).toBe(0);
    }
    const textA = fs.readFileSync(notes(a), 'utf8');
    expect(fs.readFileSync(notes(b), 'utf8')).toBe(textA);
    for (let round = 0; round < ROUNDS; round++) {
      expect(textA).toContain(`- host A, round ${round}: loss plateaus at step 400`);
      expect(textA).toContain(`- host B, round ${round}: accuracy jumps after weight decay`);
    }
    expect(textA.startsWith('# Field notes\n\n## Observations\n')).toBe(true);
  }, 180_000);

  it('two hosts changing the same manifest field differently: a clear conflict, the remote keeps one, nothing lost', async () => {
    const [a, b] = await twoHostsSharing('manifest');
    const { readManifestFile, writeManifestFile } = await import('../../src/format/msgpack.js');
    const edit = async (v: typeof a, fields: Record<string, unknown>) => {
      const file = path.join(v.specimenDir(SPECIMEN), 'manifest.msgpack');
      await writeManifestFile(file, { ...(await readManifestFile(file)), ...(fields as object) });
    };
    await edit(a, { description: 'from A', tags: ['team', 'a'] });
    await edit(b, { description: 'from B', tags: ['team', 'b'] });
    const [ra, rb] = await Promise.all([cli(['push', '--vault', a.root]), cli(['push', '--vault', b.root])]);
    const loser = ra.code === 4 ? ra : rb;
    expect([ra.code, rb.code].sort()).toEqual([0, 4]);
    expect(loser.stderr).toContain(
      `${SPECIMEN}/manifest.msgpack changed here and on the remote in the same field(s) "description"`,
    );
    // The losing host still has its edit locally; only a field that really clashed is reported (tags merge).
    const loserVault = ra.code === 4 ? a : b;
    const kept = await readManifestFile(path.join(loserVault.specimenDir(SPECIMEN), 'manifest.msgpack'));
    expect(kept.description).toBe(ra.code === 4 ? 'from A' : 'from B');
  }, 120_000);
});
