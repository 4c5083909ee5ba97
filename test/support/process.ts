// Whether a process the test started still runs.
import {readFileSync} from 'node:fs'

/** Whether pid still runs (a zombie waiting to be reaped does not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true // no /proc: signal 0 said it exists
  }
}
