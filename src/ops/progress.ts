// Calls a progress callback at a bounded rate (the CLI redraws a spinner or prints a line each time).

export function throttled<T>(callback: ((progress: T) => void) | undefined, intervalMs: number): (progress: () => T, force?: boolean) => void {
  let last = 0
  return (progress, force = false) => {
    if (callback === undefined) return
    const now = Date.now()
    if (!force && now - last < intervalMs) return
    last = now
    callback(progress())
  }
}

export function rate(count: number, seconds: number): number {
  return seconds > 0 ? Math.round(count / seconds) : 0
}
