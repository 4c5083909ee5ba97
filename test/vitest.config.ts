import {defineConfig} from 'vitest/config'

// Under the test command (test/run.mjs builds first and sets FLIP_TEST_BUILT), the bundled engine
// that tests start runs from dist/ as a user's does: each node process then loads JavaScript
// instead of compiling the TypeScript sources again with tsx (three times the start-up CPU).
const builtEngine = process.env.FLIP_TEST_BUILT === '1' ? new URL('../dist/engine/index.js', import.meta.url).pathname : undefined

export default defineConfig({
  resolve: {alias: builtEngine ? [{find: /^(\.\.\/)+src\/engine\/index\.js$/, replacement: builtEngine}] : []},
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
