import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    // Property tests generate many plans; keep the default per-test timeout generous but finite.
    testTimeout: 30_000,
  },
});
