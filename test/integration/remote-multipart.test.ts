// Multipart uploads and the cleanup of abandoned pushes, against a real S3-compatible server (versitygw):
// files above the (here lowered) multipart threshold go up in checked parts and pull back intact; a file
// changed after sealing is refused without leaving parts behind; a push killed mid-upload leaves an
// incomplete upload and uncommitted objects that `push --cleanup` removes before completing the push.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/helpers.js';
import { addRuns, addSpecimen, cloneRuns, SPECIMEN, teamVault } from '../support/remote-vault.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3ServerBinary, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;
const MIB = 1024 * 1024;
// Lowered for the test: anything over 6 MiB goes in 5 MiB parts (S3's smallest).
const MULTIPART = { multipartThreshold: 6 * MIB, partSize: '5 MiB' };

describe.skipIf(!HAVE_SERVER)('multipart uploads and cleanup of abandoned pushes', () => {
  const s3 = useS3Server('team');
  const cli = (args: string[]) => s3.cli(args, 120_000);
  const sdk = () =>
    new S3Client({
      endpoint: s3.server().endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    });
  const uploads = async (prefix: string): Promise<number> => {
    const client = sdk();
    try {
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: 'team', Prefix: prefix }));
      return out.Uploads?.length ?? 0;
    } finally {
      client.destroy();
    }
  };

  it('pushes a file over the threshold in parts and pulls it back intact', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'mp', remote: MULTIPART });
    await addSpecimen(a);
    const [template] = await addRuns(a, 1);
    const [big] = await cloneRuns(a, template!, 1, { blobs: 1, blobBytes: 13 * MIB });
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('pushed 2 run(s)');
    // A multipart object's ETag ends in "-<parts>": 13 MiB in 5 MiB parts is three.
    const { openS3Store } = await import('../../src/remote/s3-store.js');
    const { parseRemoteConfig } = await import('../../src/remote/config.js');
    Object.assign(process.env, s3.server().env);
    const store = await openS3Store(
      parseRemoteConfig({ url: 's3://team/mp', endpoint: s3.server().endpoint }),
    );
    try {
      const listed = (await store.list(`specimens/${SPECIMEN}/runs/${big}/`)).filter((o) =>
        o.key.endsWith('/blobs/0.bin'),
      );
      expect(listed.map((o) => [o.size, /-3"?$/.test(o.etag)])).toEqual([[13 * MIB, true]]);
    } finally {
      store.close();
    }
    expect(await uploads('mp/')).toBe(0);
    const b = await teamVault(s3.server(), 'team', { prefix: 'mp', remote: MULTIPART });
    expect((await cli(['pull', '--all', '--vault', b.root])).code).toBe(0);
    // Compared as buffers (an element-wise comparison of 13 MiB would take the test's memory).
    const blob = (v: typeof a) =>
      fs.readFileSync(path.join(v.specimenDir(SPECIMEN), 'runs', big!, 'blobs', '0.bin'));
    expect(blob(b).equals(blob(a))).toBe(true);
    expect((await cli(['verify', '--vault', b.root])).stdout).toContain(
      '2 sealed run(s) verified, 0 modified',
    );
  }, 240_000);

  it('refuses a large file changed after sealing, naming it, and leaves no parts behind', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'mp-bad', remote: MULTIPART });
    await addSpecimen(a);
    const [template] = await addRuns(a, 1);
    const [big] = await cloneRuns(a, template!, 1, { blobs: 1, blobBytes: 11 * MIB });
    const blob = path.join(a.specimenDir(SPECIMEN), 'runs', big!, 'blobs', '0.bin');
    const fd = fs.openSync(blob, 'r+');
    fs.writeSync(fd, Buffer.from('tampered'), 0, 8, 7 * MIB);
    fs.closeSync(fd);
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toContain(`run ${SPECIMEN}/${big} was not pushed`);
    expect(pushed.stderr).toContain(`specimens/${SPECIMEN}/runs/${big}/blobs/0.bin`);
    expect(pushed.stderr).not.toMatch(/\n\s+at /);
    expect(await uploads('mp-bad/')).toBe(0);
    expect(
      fs.existsSync(s3.server().objectFile('team', `mp-bad/specimens/${SPECIMEN}/runs/${big}/blobs/0.bin`)),
    ).toBe(false);
  }, 240_000);

  it('push --cleanup removes what a push killed mid-upload left, then completes the push', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'mp-kill', remote: MULTIPART });
    await addSpecimen(a);
    const [template] = await addRuns(a, 1);
    const [big] = await cloneRuns(a, template!, 1, { blobs: 1, blobBytes: 80 * MIB });
    const child = spawn(process.execPath, [CLI, 'push', '--vault', a.root], {
      env: { ...process.env, ...s3.server().env },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    // Killed once its multipart upload has begun and a small file of the run is up (SIGKILL: nothing of
    // ours runs afterwards).
    const seed = s3.server().objectFile('team', `mp-kill/specimens/${SPECIMEN}/runs/${big}/seed.txt`);
    const deadline = Date.now() + 60_000;
    while (
      ((await uploads('mp-kill/')) === 0 || !fs.existsSync(seed)) &&
      Date.now() < deadline &&
      child.exitCode === null
    )
      await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    expect(await uploads('mp-kill/')).toBe(1);
    const runObjects = `mp-kill/specimens/${SPECIMEN}/runs/${big}`;
    expect(fs.existsSync(s3.server().objectFile('team', `${runObjects}/manifest.msgpack`))).toBe(false);
    expect(fs.existsSync(s3.server().objectFile('team', `${runObjects}/seed.txt`))).toBe(true);

    // Younger than the cutoff: nothing is touched (a push may still be under way).
    const { cleanupRemote } = await import('../../src/remote/cleanup.js');
    const { openS3Store } = await import('../../src/remote/s3-store.js');
    const { parseRemoteConfig } = await import('../../src/remote/config.js');
    Object.assign(process.env, s3.server().env);
    const store = await openS3Store(
      parseRemoteConfig({ url: 's3://team/mp-kill', endpoint: s3.server().endpoint }),
    );
    try {
      const young = await cleanupRemote(store, { olderThanMs: 3_600_000 });
      expect(young).toMatchObject({ abortedUploads: 0, removedObjects: 0, runs: [] });
      expect(young.recentRuns).toBeGreaterThanOrEqual(1);
    } finally {
      store.close();
    }
    expect(await uploads('mp-kill/')).toBe(1);

    const cleaned = await cli(['push', '--cleanup', '--older-than', '0', '--vault', a.root]);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.stdout).toContain('aborted 1 incomplete multipart upload(s)');
    expect(cleaned.stdout).toMatch(/removed \d+ object\(s\) \([^)]*\) of [12] uncommitted run\(s\)/);
    expect(cleaned.stdout).toContain(`${SPECIMEN}/${big}`);
    expect(cleaned.stdout).toMatch(/pushed [12] run\(s\)/);
    expect(await uploads('mp-kill/')).toBe(0);
    // Everything is committed now and pulls whole.
    const b = await teamVault(s3.server(), 'team', { prefix: 'mp-kill', remote: MULTIPART });
    const pulled = await cli(['pull', '--all', '--vault', b.root]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain('pulled 2 run(s)');
    expect((await cli(['verify', '--vault', b.root])).stdout).toContain(
      '2 sealed run(s) verified, 0 modified',
    );
  }, 240_000);
});
