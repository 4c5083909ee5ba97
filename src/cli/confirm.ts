// A yes/no question on the terminal. Without a terminal there is nobody to ask: the caller
// must have passed --yes, otherwise the command refuses (a cron job must say what it wants).
import {createInterface} from 'node:readline/promises'
import {EXIT, FlipError} from '../util/exit-codes.js'

export async function confirmOnTerminal(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new FlipError('refusing to change data without confirmation: not a terminal, pass --yes', EXIT.usage)
  }
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
