// When vitest runs without test/run.mjs (npx vitest run …), give the run its own temp dir here
// and fail it if anything remains there afterwards. Workers start after this and inherit TMPDIR.
import {cleanUpRun, createRunDir, describeLeftovers, findLeftovers, RUN_DIR_ENV, runEnv} from './temp-guard.mjs'

export default function setup(): (() => void) | undefined {
  if (process.env[RUN_DIR_ENV]) return undefined // test/run.mjs owns the run dir and checks it
  const dir = createRunDir()
  Object.assign(process.env, runEnv(dir))
  return () => {
    const leftovers = findLeftovers(dir)
    cleanUpRun(dir, leftovers)
    const lines = describeLeftovers(leftovers)
    if (lines.length === 0) return
    process.exitCode = 1 // vitest reports an error thrown here but still exits 0
    throw new Error(lines.join('\n'))
  }
}
