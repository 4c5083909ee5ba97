// Where output goes: results on stdout, progress and warnings on stderr.
// ora only on an interactive terminal that reports its width (ora 9 floods a 0-column
// terminal) and not under CI; plain, rate-limited progress lines everywhere else.
import {Chalk, supportsColorStderr, supportsColor} from 'chalk'
import ora, {type Ora} from 'ora'

/** chalk ignores NO_COLOR by itself; this instance honours it. */
export const color = new Chalk({level: colorLevel(supportsColor)})
export const colorStderr = new Chalk({level: colorLevel(supportsColorStderr)})

function colorLevel(support: typeof supportsColor): 0 | 1 | 2 | 3 {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return 0
  return support ? support.level : 0
}

export function interactiveStderr(): boolean {
  const stream = process.stderr
  return Boolean(
    stream.isTTY && (stream.columns ?? 0) > 0 && !process.env.CI && process.env.TERM !== 'dumb',
  )
}

export interface Progress {
  /** Replace the current progress text (rate-limited when not interactive). */
  update(text: string): void
  /** A line that must be seen (a warning, a phase change). */
  note(text: string): void
  succeed(text?: string): void
  fail(text?: string): void
  stop(): void
}

export interface ProgressOptions {
  /** Minimum milliseconds between plain progress lines. */
  intervalMs?: number
  /** Print nothing at all (e.g. --quiet). */
  silent?: boolean
}

export function startProgress(text: string, options: ProgressOptions = {}): Progress {
  if (options.silent) return silentProgress
  // discardStdin off: ora's default puts the terminal in raw mode, so Ctrl-C arrives as a byte
  // instead of SIGINT, and the byte is only turned back into SIGINT if stdin is being read —
  // which a command that never reads stdin does not do (ora 9 leaves a fresh stdin unread), so
  // Ctrl-C was ignored for as long as the spinner showed. In the terminal's normal mode the
  // kernel sends SIGINT itself and the commands' handlers (interrupt.ts) see it.
  if (interactiveStderr()) return new SpinnerProgress(ora({text, stream: process.stderr, discardStdin: false}).start())
  return new LineProgress(text, options.intervalMs ?? 2000)
}

const silentProgress: Progress = {update() {}, note() {}, succeed() {}, fail() {}, stop() {}}

class SpinnerProgress implements Progress {
  constructor(private readonly spinner: Ora) {}
  update(text: string): void {
    this.spinner.text = text
  }

  note(text: string): void {
    this.spinner.clear()
    process.stderr.write(text + '\n')
    this.spinner.render()
  }

  succeed(text?: string): void {
    this.spinner.succeed(text)
  }

  fail(text?: string): void {
    this.spinner.fail(text)
  }

  stop(): void {
    if (this.spinner.isSpinning) this.spinner.stop()
  }
}

class LineProgress implements Progress {
  private lastLine = 0
  constructor(text: string, private readonly intervalMs: number) {
    this.write(text)
  }

  update(text: string): void {
    const now = Date.now()
    // Lines in between are dropped: the next one says where things stand.
    if (now - this.lastLine >= this.intervalMs) this.write(text)
  }

  note(text: string): void {
    this.write(text)
  }

  succeed(text?: string): void {
    if (text) this.write(text)
  }

  fail(text?: string): void {
    if (text) this.write(text)
  }

  stop(): void {}

  private write(text: string): void {
    this.lastLine = Date.now()
    process.stderr.write(text + '\n')
  }
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}
