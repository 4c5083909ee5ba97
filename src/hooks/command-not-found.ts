// An unknown command is a usage error (exit 2) with one line naming it and, when one is close,
// the command that was probably meant. No prompt: flip runs unattended as often as not, and a
// guess must never run a command nobody typed.
import type {Hook} from '@oclif/core'
import {colorStderr} from '../cli/output.js'
import {EXIT} from '../util/exit-codes.js'
import {closestCommand} from '../cli/suggest.js'

const hook: Hook.CommandNotFound = async function ({id, config}) {
  const typed = id.split(':')
  const commands = config.commands.filter((command) => !command.hidden).map((command) => command.id.split(':'))
  // A known topic ("engine") followed by an unknown word names both; otherwise the first word is the unknown one.
  const unknown = config.findTopic(typed[0]) && typed.length > 1 ? typed.slice(0, 2).join(' ') : typed[0]
  const suggestion = closestCommand(typed, commands)
  const hint = suggestion ? `; did you mean "${config.bin} ${suggestion.join(' ')}"?` : ''
  const message = `unknown command "${unknown}"${hint} (\`${config.bin} --help\` lists the commands)`
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({error: {code: EXIT.usage, message}}, null, 2) + '\n')
  } else {
    process.stderr.write(`${colorStderr.red('Error:')} ${message}\n`)
  }
  this.exit(EXIT.usage)
}

export default hook
