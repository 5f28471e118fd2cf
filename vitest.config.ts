import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests spawn child processes and DuckDB instances; two workers match CI's two cores.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
