// Temp dirs for tests. Each one is removed after its test file (test/support/setup-file.ts), so
// a file cannot forget one; the run's guard (test/support/temp-guard.mjs) fails on any that stay.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const made: string[] = []

/** A fresh directory under the temp dir, removed when the current test file ends. */
export function tempDir(prefix = 'flip-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
}
