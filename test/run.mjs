#!/usr/bin/env node
// The project's test command: build (child-process CLI tests run dist/), run vitest with
// its JSON reporter, and end with the plain line CI reads: "N passed, N failed, N skipped".
// The run has a temp dir of its own (see test/support/temp-guard.mjs): anything left in it, or a
// process still running from it, fails the run, named.
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {cleanUpRun, createRunDir, describeLeftovers, findLeftovers, runEnv} from './support/temp-guard.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const results = join(root, '.vitest-results.json')
const bin = (name) => join(root, 'node_modules', '.bin', name)

// The same build as `npm run build`: tsc, then oclif's manifest, so each `flip` a test runs loads
// only its own command instead of every command module (a third of its start-up time).
const build = spawnSync(bin('tsc'), ['-p', 'tsconfig.json'], {cwd: root, stdio: 'inherit'})
const manifest = build.status === 0 ? spawnSync(bin('oclif'), ['manifest'], {cwd: root, stdio: ['ignore', 'ignore', 'inherit']}) : build
if (build.status !== 0 || manifest.status !== 0) {
  console.log('build failed')
  console.log('0 passed, 1 failed, 0 skipped')
  process.exit(1)
}

rmSync(results, {force: true})
const runDir = createRunDir()
const run = spawnSync(
  bin('vitest'),
  ['run', '--config', 'test/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)],
  {cwd: root, stdio: 'inherit', env: {...runEnv(runDir), FLIP_TEST_BUILT: '1'}},
)
const leftovers = findLeftovers(runDir)
cleanUpRun(runDir, leftovers)
const leaks = describeLeftovers(leftovers)
for (const line of leaks) console.log(line)

let passed = 0
let failed = 0
let skipped = 0
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'))
  passed = report.numPassedTests ?? 0
  failed = (report.numFailedTests ?? 0) + countFilesFailedWithoutAFailedTest(report)
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
} else {
  failed = 1
}
// A suite that crashed before running its tests fails the run even when no test failed.
if (run.status !== 0 && failed === 0) failed = 1
// Leftovers count as one failure: the tests passed, but the run did not clean up after itself.
if (leaks.length > 0) failed += 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || run.status !== 0 ? 1 : 0)

// vitest's numFailedTestSuites counts describe blocks as well as files, so it cannot be used:
// a file that failed with no failed test (it crashed on import, say) counts as one failure.
function countFilesFailedWithoutAFailedTest(report) {
  return (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length
}
