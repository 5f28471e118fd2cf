// A real S3-compatible server (versitygw, built by scripts/s3-server.sh) for the remote tests: each test
// file starts its own instance on a free loopback port with its own data directory, and stops it. Tests
// skip loudly when the binary is missing locally, and fail in CI (CI=true), where .ci/run builds it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type CliResult, REPO_ROOT, runCli, tempDir } from './helpers.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 's3-server.sh');
export const S3_ACCESS_KEY = 'specimen-test-access';
export const S3_SECRET_KEY = 'specimen-test-secret-key';

let cached: string | false | undefined;

/** Path of the server binary, or false (with a loud warning) when it is not built; throws in CI. */
export function s3ServerBinary(): string | false {
  if (cached !== undefined) return cached;
  try {
    cached = execFileSync('bash', [SCRIPT, '--which'], { encoding: 'utf8' }).trim();
  } catch {
    if (process.env.CI)
      throw new Error(
        'the S3 test server is not built; .ci/run must run `bash scripts/s3-server.sh --build`',
      );
    console.warn(
      '\n*** SKIPPING remote tests: the S3 test server is not built (run `bash scripts/s3-server.sh --build`) ***\n',
    );
    cached = false;
  }
  return cached;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`s3 server exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`s3 server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One running server. */
export class TestS3Server {
  private child: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly port: number,
    /** Root of the server's files: `data/<bucket>/<key>` holds each object's bytes. */
    readonly dir: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment with the server's credentials, for child processes. */
  get env(): NodeJS.ProcessEnv {
    return {
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  static async start(dir = tempDir('sv-s3-')): Promise<TestS3Server> {
    const server = new TestS3Server(await freePort(), dir);
    await server.restart();
    return server;
  }

  /** (Re)starts the server on the same port and data directory. */
  async restart(): Promise<void> {
    const child = spawn('bash', [SCRIPT, String(this.port), this.dir], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    this.child = child;
    // A test process that dies without its afterAll must not leave the server running.
    const reap = (): void => {
      if (child.exitCode === null) child.kill('SIGKILL');
    };
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    await waitForPort(this.port, 30_000, child);
  }

  /** The file holding an object's bytes. */
  objectFile(bucket: string, key: string): string {
    return path.join(this.dir, 'data', bucket, ...key.split('/'));
  }

  /** Creates a bucket (a directory the posix backend serves). */
  async createBucket(name: string): Promise<void> {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }

  /** Kills the server at once (SIGKILL), as a crash or a pulled cable would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  /** Removes the data directory too. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Inside a describe block: starts a server with `bucket` before its tests and disposes of it after.
 * `cli` runs the built CLI with the server's credentials.
 */
export function useS3Server(bucket = 'team'): {
  server: () => TestS3Server;
  cli: (args: string[], timeoutMs?: number) => Promise<CliResult>;
} {
  let server: TestS3Server | undefined;
  beforeAll(async () => {
    server = await TestS3Server.start();
    await server.createBucket(bucket);
  });
  afterAll(async () => {
    await server?.dispose();
  });
  const get = (): TestS3Server => {
    if (!server) throw new Error('the S3 test server is not running');
    return server;
  };
  return {
    server: get,
    cli: (args, timeoutMs) => runCli(args, { env: get().env, ...(timeoutMs ? { timeoutMs } : {}) }),
  };
}
