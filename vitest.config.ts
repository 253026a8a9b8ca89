import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not the built dist/ folders.
    alias: [
      {
        find: /^@dosrouter\/(shared|gateway|health-prober|provider-sim)$/,
        replacement: `${packagesDir}$1/src/index.ts`,
      },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Every log line written during the run is scanned for the secrets the tests used (test/support/log-scan.global.ts);
    // every process a test starts dies with its worker, and anything left at the end is killed
    // (test/support/child-processes.*).
    globalSetup: ['test/support/log-scan.global.ts', 'test/support/child-processes.global.ts'],
    setupFiles: ['test/support/worker-output.setup.ts', 'test/support/child-processes.setup.ts'],
  },
});
