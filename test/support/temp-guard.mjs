// A test run gets a temp dir of its own. TMPDIR points there for vitest, its workers and every
// child process they start (os.tmpdir() reads TMPDIR, and redis-server, the engine and the CLI
// inherit it), so what the run leaves behind is what remains in that one directory, whatever
// else runs on the machine at the same time. At the end it must be empty, and no process that
// carries it in its environment may still run. Used by test/run.mjs and, when vitest is run
// directly, by test/support/global-setup.ts.
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'

/** Set (with TMPDIR) by whoever owns the run dir, so that nobody below creates a second one. */
export const RUN_DIR_ENV = 'FLIP_TEST_RUN_DIR'

// tsx (the engine's child processes under vitest) keeps a compile cache, not test output.
const tsxCache = `tsx-${process.geteuid ? process.geteuid() : userInfo().username}`

export function createRunDir() {
  const outer = tmpdir()
  const dir = mkdtempSync(join(outer, 'flip-test-run-'))
  // Reuse the machine's tsx cache when there is one: a cold cache compiles every engine start.
  if (existsSync(join(outer, tsxCache))) symlinkSync(join(outer, tsxCache), join(dir, tsxCache))
  return dir
}

/** The env for the run: TMPDIR (and its aliases) point at dir. */
export function runEnv(dir, env = process.env) {
  return {...env, TMPDIR: dir, TMP: dir, TEMP: dir, [RUN_DIR_ENV]: dir}
}

/**
 * What the run left: entries in dir (but the tsx cache) and processes started with TMPDIR=dir
 * (Linux /proc; elsewhere only the entries). Call it once the test runner has exited, or from
 * its global teardown (its own pid is left out). A process told to stop may still be on its way
 * out (and then remove its files): it gets graceMs to go.
 */
export function findLeftovers(dir, graceMs = 5000) {
  const deadline = Date.now() + graceMs
  let processes = processesOf(dir)
  while (processes.length > 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    processes = processesOf(dir)
  }
  const entries = existsSync(dir) ? readdirSync(dir).filter((name) => name !== tsxCache).sort() : []
  return {entries, processes}
}

function processesOf(dir) {
  const processes = []
  const marker = `TMPDIR=${dir}`
  let pids = []
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    // no /proc: only the entries are checked
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) continue
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()
      processes.push({pid: Number(pid), command})
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return processes
}

/** Lines describing the leftovers, for the run's output; empty when there are none. */
export function describeLeftovers({entries, processes}) {
  const lines = []
  if (entries.length > 0) lines.push(`tests left ${entries.length} entries in the temp dir: ${entries.join(', ')}`)
  for (const {pid, command} of processes) lines.push(`tests left a process running: pid ${pid}: ${command}`)
  return lines
}

/** Stops the leftover processes (they carry this run's TMPDIR, so this run started them) and removes dir. */
export function cleanUpRun(dir, {processes}) {
  for (const {pid} of processes) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  rmSync(dir, {recursive: true, force: true})
}
