// Runs the built CLI on a real pseudo-terminal (util-linux `script`), as a user at a terminal
// does: stdin and stderr are TTYs that report a size, so the spinner shows, and a ^C byte
// written to the terminal becomes SIGINT only if the terminal is in its normal mode — exactly
// what a pipe cannot show. No CI variable, so nothing turns the spinner off.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

export function hasScript(): boolean {
  return spawnSync('script', ['--version']).status === 0
}

export interface PtyRun {
  /** Everything the terminal showed so far, escape sequences removed, \r\n as \n. */
  readonly text: string
  /** The CLI's pid (the shell execs node, so it keeps the shell's pid). */
  pid(): Promise<number>
  /** Waits until the terminal shows a match of `pattern` (rejects after `timeoutMs` or at exit). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Type on the terminal ("\x03" is Ctrl-C). */
  type(data: string): void
  /** The exit code (rejects after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<number | null>
  kill(): void
}

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`

export function flipInPty(args: string[], options: {cwd: string; env: Record<string, string>}): PtyRun {
  const env: Record<string, string | undefined> = {...process.env, TERM: 'xterm', NO_COLOR: '1', ...options.env}
  delete env.CI
  delete env.FORCE_COLOR
  const command = `stty cols 120 rows 40; echo "pid=$$"; exec ${quote(process.execPath)} ${quote(runJs)} ${args.map(quote).join(' ')}`
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], {cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe']})
  let raw = ''
  let exitCode: number | null | undefined
  const listeners = new Set<() => void>()
  const changed = () => {
    for (const listener of [...listeners]) listener()
  }
  child.stdout!.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8')
    changed()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8')
    changed()
  })
  child.on('exit', (code) => {
    exitCode = code
    changed()
  })
  const text = () =>
    raw
      // eslint-disable-next-line no-control-regex
      .replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r\n/g, '\n')

  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check()
        if (value !== undefined) return finish(() => resolve(value))
        if (exitCode !== undefined && what !== 'exit') return finish(() => reject(new Error(`exited (${exitCode}) before ${what}; terminal:\n${text()}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; terminal:\n${text()}`))), timeoutMs)
      const finish = (settle: () => void) => {
        clearTimeout(timer)
        listeners.delete(attempt)
        settle()
      }
      listeners.add(attempt)
      attempt()
    })

  return {
    get text() {
      return text()
    },
    async pid() {
      const match = await until(() => /pid=(\d+)/.exec(text()) ?? undefined, 30_000, 'the pid')
      return Number(match[1])
    },
    waitFor(pattern, timeoutMs = 60_000) {
      return until(() => pattern.exec(text()) ?? undefined, timeoutMs, String(pattern))
    },
    type(data) {
      child.stdin!.write(data)
    },
    exited(timeoutMs = 60_000) {
      return until(() => (exitCode === undefined ? undefined : {code: exitCode}), timeoutMs, 'exit').then((r) => r.code)
    },
    kill() {
      const pid = /pid=(\d+)/.exec(text())
      if (pid && exitCode === undefined) {
        try {
          process.kill(Number(pid[1]), 'SIGKILL')
        } catch {
          // already gone
        }
      }
      if (exitCode === undefined) child.kill('SIGKILL')
    },
  }
}
