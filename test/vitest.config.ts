import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    // The run's own temp dir, checked empty at the end (when test/run.mjs does not do it).
    globalSetup: ['test/support/global-setup.ts'],
    // Removes each file's temp dirs (test/support/temp.ts) after its tests.
    setupFiles: ['test/support/setup-file.ts'],
    // What the code under test prints reaches the real stdout/stderr, as it does for a user.
    disableConsoleIntercept: true,
    // Limits for a hung test, not expectations: a busy machine makes the slowest tests (the
    // crash tests) several times slower. Waits inside tests poll for readiness.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    // Files start real servers on free ports; two at a time keeps a 2-core machine responsive.
    // An external Valkey (FLIP_TEST_VALKEY_URL) is shared by several files and the conformance
    // file FLUSHALLs it before each case: then files run one at a time.
    fileParallelism: !process.env.FLIP_TEST_VALKEY_URL,
    maxWorkers: 2,
  },
})
