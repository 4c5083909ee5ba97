// A yes/no question on the terminal. Without a terminal there is nobody to ask: the caller
// must have passed --yes, otherwise the command refuses (a cron job must say what it wants).
import {createInterface} from 'node:readline/promises'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {abortError} from '../util/interrupt.js'

/** `signal` (Ctrl-C, SIGTERM) withdraws the question: the promise rejects with its reason. */
export async function confirmOnTerminal(question: string, yes: boolean, signal?: AbortSignal): Promise<boolean> {
  if (yes) return true
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new FlipError('refusing to change data without confirmation: not a terminal, pass --yes', EXIT.usage)
  }
  const rl = createInterface({input: process.stdin, output: process.stderr})
  // readline reads the terminal in raw mode, so Ctrl-C reaches it as a key, not as SIGINT:
  // hand it on to the process, where the command's handler (interrupt.ts) decides.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'))
  try {
    const answer = await rl.question(`${question} [y/N] `, {signal: signal ?? new AbortController().signal})
    return /^y(es)?$/i.test(answer.trim())
  } catch (error) {
    // readline's AbortError would exit 1: it is an interruption (130), as the signal says.
    throw signal?.aborted ? abortError(signal) : error
  } finally {
    rl.close()
  }
}
