import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base.js'
import {trapInterrupts} from '../cli/interrupt.js'
import {runDemo} from '../demo/story.js'
import {InterruptedError} from '../util/interrupt.js'

export default class Demo extends BaseCommand {
  static summary = 'Run the whole story on the bundled engine: stage → verify → diff → scheduled cutover → rollback.'

  static description = 'Starts a 3-node engine on free ports in a temporary state directory, runs each step as the real CLI (printed before it runs), and stops the engine at the end.'

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --lead 10']

  static enableJsonFlag = false

  static flags = {
    lead: Flags.integer({summary: 'Seconds ahead the scheduled cutover fires.', default: 5, min: 2}),
    keep: Flags.boolean({summary: 'Keep the temporary state directory (plans, manifests, engine log).'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Demo)
    const interrupts = trapInterrupts()
    try {
      await runDemo({write: (line) => this.log(line), keep: flags.keep, leadSeconds: flags.lead, signal: interrupts.signal})
    } catch (error) {
      if (error instanceof InterruptedError) throw new InterruptedError(`demo ${error.message}: its engine was stopped${flags.keep ? '' : ' and its state directory removed'}`)
      throw error
    } finally {
      interrupts.dispose()
    }
  }
}
