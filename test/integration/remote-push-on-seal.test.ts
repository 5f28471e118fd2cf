// `specimen run --push` and `remote.pushOnSeal` against a real S3-compatible server: the run is pushed
// when sealed; a host that cannot reach the remote keeps the run locally and pushes it later.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSpecimen, localRunIds, SPECIMEN, teamVault } from '../support/remote-vault.js';
import { freePort, s3ServerBinary, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;
const LOG_METRICS = [
  '--',
  process.execPath,
  '-e',
  "require('fs').appendFileSync(process.env.SPECIMEN_RUN_DIR + '/metrics.jsonl', JSON.stringify({ step: 0, loss: 1 }) + '\\n')",
];

describe.skipIf(!HAVE_SERVER)('pushing runs when they are sealed', () => {
  const s3 = useS3Server('team');
  const cli = (args: string[]) => s3.cli(args);

  it('pushes each sealed run with pushOnSeal, and with --push', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'seal', remote: { pushOnSeal: true } });
    await addSpecimen(a);
    const ran = await cli(['run', SPECIMEN, '--vault', a.root, ...LOG_METRICS]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toContain('pushed');
    const flagged = await teamVault(s3.server(), 'team', { prefix: 'seal' });
    fs.cpSync(a.specimensDir, flagged.specimensDir, { recursive: true });
    fs.rmSync(path.join(flagged.specimenDir(SPECIMEN), 'runs'), { recursive: true });
    await new Promise((r) => setTimeout(r, 1100)); // another second, another run ID
    const ran2 = await cli(['run', SPECIMEN, '--push', '--vault', flagged.root, ...LOG_METRICS]);
    expect(ran2.code, ran2.stderr).toBe(0);
    const reader = await teamVault(s3.server(), 'team', { prefix: 'seal' });
    expect((await cli(['pull', '--all', '--vault', reader.root])).code).toBe(0);
    expect(localRunIds(reader)).toEqual([...localRunIds(a), ...localRunIds(flagged)].sort());
    expect(localRunIds(reader)).toHaveLength(2);
  });

  it('keeps the run locally when the remote is unreachable, and pushes it later', async () => {
    const port = await freePort();
    const a = await teamVault(s3.server(), 'team', {
      prefix: 'offline',
      remote: { pushOnSeal: true, pushRetries: 2, endpoint: `http://127.0.0.1:${port}` },
    });
    await addSpecimen(a);
    const ran = await cli(['run', SPECIMEN, '--vault', a.root, ...LOG_METRICS]);
    expect(ran.code, ran.stderr).toBe(0); // the protocol's exit code, not the push's
    expect(ran.stderr).toContain('cannot reach');
    expect(ran.stderr).toContain('stays local');
    expect(localRunIds(a)).toHaveLength(1);

    const file = path.join(a.root, 'specimen-vault.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.remote.endpoint = s3.server().endpoint; // back online
    fs.writeFileSync(file, JSON.stringify(config));
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('pushed 1 run(s)');
  });
});
