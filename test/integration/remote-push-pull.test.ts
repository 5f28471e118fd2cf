// `specimen push`, `pull`, `sync` and `verify --remote` against a real S3-compatible server (versitygw),
// through the built CLI: round trip, idempotence, refusing corrupt objects, and the errors a user can fix.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/helpers.js';
import {
  addRuns,
  addSpecimen,
  cloneRuns,
  localRunIds,
  SPECIMEN,
  teamVault,
} from '../support/remote-vault.js';
import { freePort, s3ServerBinary, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;

describe.skipIf(!HAVE_SERVER)('team vault on an S3-compatible store', () => {
  const s3 = useS3Server('team');
  const cli = (args: string[]) => s3.cli(args);

  it('pushes sealed runs and specimen files, pulls them into a fresh vault that verifies', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'roundtrip' });
    await addSpecimen(a);
    const runs = await addRuns(a, 3);
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('pushed 3 run(s)');
    expect(pushed.stderr).toBe('');

    const again = await cli(['push', '--vault', a.root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('pushed 0 run(s) (0 objects, 0 B)');
    expect(again.stdout).toContain('3 already there');

    const b = await teamVault(s3.server(), 'team', { prefix: 'roundtrip' });
    const pulled = await cli(['pull', '--all', '--vault', b.root]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain('pulled 3 run(s)');
    expect(localRunIds(b)).toEqual(runs);
    for (const f of ['manifest.msgpack', 'field_notes.md'])
      expect(fs.readFileSync(path.join(b.specimenDir(SPECIMEN), f))).toEqual(
        fs.readFileSync(path.join(a.specimenDir(SPECIMEN), f)),
      );
    const verified = await cli(['verify', '--vault', b.root]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('3 sealed run(s) verified');
    const remote = await cli(['verify', '--remote', '--vault', b.root]);
    expect(remote.code, remote.stdout).toBe(0);
    expect(remote.stdout).toContain('3 remote run(s) verified, 0 corrupt');
    // The pulled vault is a vault like any other: it indexes and queries.
    const q = await cli(['index', '--quiet', '--vault', b.root]);
    expect(q.code, q.stderr).toBe(0);
    const count = await cli([
      'query',
      `SELECT count(*) AS n FROM runs WHERE specimen_id = '${SPECIMEN}'`,
      '--format',
      'json',
      '--vault',
      b.root,
    ]);
    expect(JSON.parse(count.stdout)).toEqual([{ n: 3 }]);
  });

  it('streams files too large to hold in memory comfortably, checked the same way', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'large' });
    await addSpecimen(a);
    const [template] = await addRuns(a, 1);
    await cloneRuns(a, template!, 1, { blobs: 1, blobBytes: 24 * 1024 * 1024 });
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const b = await teamVault(s3.server(), 'team', { prefix: 'large' });
    expect((await cli(['pull', '--all', '--vault', b.root])).code).toBe(0);
    const verified = await cli(['verify', '--vault', b.root]);
    expect(verified.stdout).toContain('2 sealed run(s) verified, 0 modified');
  });

  it('sync brings both hosts to the same runs', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'sync' });
    await addSpecimen(a);
    await addRuns(a, 1, { seed: 1 });
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const b = await teamVault(s3.server(), 'team', { prefix: 'sync' });
    expect((await cli(['pull', SPECIMEN, '--vault', b.root])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // a later second, so B's run ID differs from A's
    await addRuns(b, 1, { seed: 2 });
    const s1 = await cli(['sync', '--vault', b.root]);
    expect(s1.code, s1.stderr).toBe(0);
    const s2 = await cli(['sync', '--vault', a.root]);
    expect(s2.code, s2.stderr).toBe(0);
    expect(localRunIds(a)).toEqual(localRunIds(b));
    expect(localRunIds(a)).toHaveLength(2);
  });

  it('refuses a corrupted object on pull, naming it, and verify --remote finds it', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'corrupt' });
    await addSpecimen(a);
    const [good, bad] = await addRuns(a, 2);
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const key = `corrupt/specimens/${SPECIMEN}/runs/${bad}/metrics.parquet`;
    const file = s3.server().objectFile('team', key);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // same size, one flipped byte: bit rot
    fs.writeFileSync(file, bytes);

    const b = await teamVault(s3.server(), 'team', { prefix: 'corrupt' });
    const pulled = await cli(['pull', '--all', '--vault', b.root]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toContain(`refused run ${SPECIMEN}/${bad}`);
    expect(pulled.stderr).toContain(`specimens/${SPECIMEN}/runs/${bad}/metrics.parquet`);
    expect(pulled.stderr).not.toMatch(/\n\s+at /);
    expect(localRunIds(b)).toEqual([good]); // the good run arrived; nothing of the bad one is left behind
    expect(fs.readdirSync(path.join(b.specimenDir(SPECIMEN), 'runs'))).toEqual([good]);

    const verify = await cli(['verify', '--remote', '--vault', b.root]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`CORRUPT ${SPECIMEN}/${bad}`);
    expect(verify.stdout).toContain(`specimens/${SPECIMEN}/runs/${bad}/metrics.parquet`);
  });

  it('refuses to upload a run whose local file changed after sealing, and still pushes the others', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'tampered' });
    await addSpecimen(a);
    const [run, good] = await addRuns(a, 2);
    const file = path.join(a.specimenDir(SPECIMEN), 'runs', run!, 'metrics.parquet');
    fs.chmodSync(file, 0o644);
    const bytes = fs.readFileSync(file);
    bytes[10]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toContain(`run ${SPECIMEN}/${run} was not pushed`);
    expect(pushed.stderr).toContain(`runs/${run}/metrics.parquet`);
    expect(pushed.stderr).toContain('specimen verify');
    expect(pushed.stdout).toContain('pushed 1 run(s)');
    const b = await teamVault(s3.server(), 'team', { prefix: 'tampered' });
    expect((await cli(['pull', '--all', '--vault', b.root])).code).toBe(0);
    expect(localRunIds(b)).toEqual([good]);
  });

  it('reports a run ID taken on the remote by a different run as a conflict, overwriting nothing', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'collide' });
    await addSpecimen(a);
    const [run] = await addRuns(a, 1, { seed: 1 });
    const b = await teamVault(s3.server(), 'team', { prefix: 'collide' });
    fs.cpSync(a.specimensDir, b.specimensDir, { recursive: true });
    // Host B's run has the same ID but other bytes: rebuild it in place as a different sealed run.
    const bRun = path.join(b.specimenDir(SPECIMEN), 'runs', run!);
    fs.rmSync(bRun, { recursive: true, force: true });
    fs.cpSync(path.join(a.specimenDir(SPECIMEN), 'runs', run!), bRun, { recursive: true });
    const m = path.join(bRun, 'manifest.msgpack');
    fs.chmodSync(m, 0o644);
    const { readManifestFile, writeManifestFile } = await import('../../src/format/msgpack.js');
    await writeManifestFile(m, { ...(await readManifestFile(m)), summary: { seed: 99 } });

    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const pushed = await cli(['push', '--vault', b.root]);
    expect(pushed.code).toBe(4);
    expect(pushed.stderr).toContain(
      `run ID ${SPECIMEN}/${run} is already taken on the remote by a different run`,
    );
    // Both origins are named, so the people involved can tell whose run is whose.
    const host = os.hostname();
    expect(pushed.stderr).toMatch(
      new RegExp(`\\(started on ${host} at [0-9T:.-]+Z; this one started on ${host} at [0-9T:.-]+Z\\)`),
    );
    expect(pushed.stderr).toContain('rerun it');
    const c = await teamVault(s3.server(), 'team', { prefix: 'collide' });
    expect((await cli(['pull', '--all', '--vault', c.root])).code).toBe(0);
    expect(fs.readFileSync(path.join(c.specimenDir(SPECIMEN), 'runs', run!, 'manifest.msgpack'))).toEqual(
      fs.readFileSync(path.join(a.specimenDir(SPECIMEN), 'runs', run!, 'manifest.msgpack')),
    );
  });

  it('names what to fix for wrong credentials, a missing bucket, an unreachable endpoint and a bad config', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'errors' });
    await addSpecimen(a);
    const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

    const creds = await runCli(['push', '--vault', a.root], {
      env: { ...s3.server().env, AWS_SECRET_ACCESS_KEY: 'wrong-secret' },
    });
    expect(creds.code).toBe(2);
    expect(creds.stderr).toContain('refused the credentials');
    expect(creds.stderr).toContain('AWS_ACCESS_KEY_ID');
    noStack(creds.stderr);

    const bucket = await teamVault(s3.server(), 'no-such-bucket');
    const missing = await cli(['push', '--vault', bucket.root]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('bucket "no-such-bucket" does not exist');
    noStack(missing.stderr);

    const down = await teamVault(s3.server(), 'team', {
      remote: { endpoint: `http://127.0.0.1:${await freePort()}` },
    });
    const unreachable = await cli(['pull', '--all', '--vault', down.root]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:');
    expect(unreachable.stderr).toContain('remote.endpoint');
    noStack(unreachable.stderr);

    const bad = await teamVault(s3.server(), 'team', { remote: { url: 'https://team' } });
    const config = await cli(['push', '--vault', bad.root]);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('field "remote.url"');

    const plain = tempDir('sv-plain-');
    expect((await runCli(['init', plain])).code).toBe(0);
    const none = await cli(['push', '--vault', plain]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('has no "remote"');
  });
});
