// Integration tests run the built CLI (`dist/cli/main.js`) as a child process; build it once if missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..', '..');
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  }
}
