import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // At least two: the end-to-end file spends its four minutes mostly waiting on Prometheus'
    // clocks, and the other files run beside it even on a two-core machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
