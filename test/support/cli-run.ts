// Running the built CLI as a child process the way a scheduler would, for the tests that run the
// command lines `flip init` generates (test/e2e/nightly.test.ts, test/e2e/templates-run.test.ts):
// the runner, shell word splitting, the schedule replaced by --at, a catalog per night, and the
// live db's key count and checksum.
import {execFile} from 'node:child_process'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {expect} from 'vitest'
import {summary} from '../../src/cutover/state.js'
import {scanDb} from '../../src/ops/db-checksum.js'
import {connectPlane} from '../../src/plane/plane.js'
import {tempDir} from './temp.js'

export const runJs = new URL('../../bin/run.js', import.meta.url).pathname

/** This checkout's package name and version: what the files `flip init` writes pin. */
export const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {name: string; version: string}

/** A directory holding an `npx` that serves exactly the pinned package from this checkout. */
export function npxShim(): string {
  const dir = tempDir('flip-npx-')
  const script = `#!/bin/sh
if [ "$1" != "--yes" ] || [ "$2" != "--package=${pkg.name}@${pkg.version}" ] || [ "$3" != "flip" ]; then
  echo "npx shim: not the pinned launcher: $*" >&2
  exit 97
fi
shift 3
exec "${process.execPath}" "${runJs}" "$@"
`
  writeFileSync(join(dir, 'npx'), script)
  chmodSync(join(dir, 'npx'), 0o755)
  return dir
}

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The test process's environment without the variables that would override a project's flip.config.json. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, CI: 'true', NO_COLOR: '1'}
  for (const name of ['FLIP_URL', 'VALKEY_URL', 'FLIP_STATE_DIR', 'FLIP_NOTIFY', 'FLIP_LIVE_DB', 'FLIP_SHADOW_DB', 'FLIP_ARCHIVE_DB', 'FLIP_META_DB', 'FLIP_PASSWORD']) delete env[name]
  return {...env, ...extra}
}

/** Runs a program to its end; a non-zero exit is a result, not an exception. */
export async function run(file: string, args: string[], options: {cwd: string; env: NodeJS.ProcessEnv}): Promise<Run> {
  try {
    const {stdout, stderr} = await promisify(execFile)(file, args, {...options, timeout: 240_000, maxBuffer: 64 << 20})
    return {code: 0, stdout, stderr}
  } catch (error) {
    const failed = error as {code: number; stdout: string; stderr: string}
    return {code: failed.code, stdout: failed.stdout, stderr: failed.stderr}
  }
}

/** `flip ARGS` in dir, where the project's flip.config.json decides, as on the cron host. */
export async function flip(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, [runJs, ...args], {cwd: dir, env: cliEnv(env)})
}

/** Splits a shell command line into words (single and double quotes; no expansions needed here). */
export function shellWords(line: string): string[] {
  const words: string[] = []
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2]?.replace(/\\(.)/g, '$1') ?? match[3])
  return words
}

/** The arguments with `--cron EXPR` replaced by `--at <instant>`. */
export function withAt(args: string[], at: Date): string[] {
  const out = [...args]
  const i = out.indexOf('--cron')
  expect(i).toBeGreaterThan(0)
  out.splice(i, 2, '--at', at.toISOString())
  return out
}

/** Night n's catalog: a few thousand prices, a different key set and different values each night. */
export function catalog(n: number): string {
  const lines: string[] = []
  for (let i = 0; i < 3000 + 250 * n; i++) lines.push(JSON.stringify({key: `price:{sku${i % 50}}:${i}`, value: `${(10 + ((i * 7 + n * 13) % 500) / 10).toFixed(2)}`}))
  return lines.join('\n') + '\n'
}

export async function liveSummary(url: string): Promise<{keys: number; checksum: string}> {
  const plane = await connectPlane({url, db: 0})
  try {
    return summary((await scanDb(plane)).checksum)
  } finally {
    await plane.close()
  }
}
