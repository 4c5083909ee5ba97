import {Args, Flags} from '@oclif/core'
import {confirmOnTerminal} from '../cli/confirm.js'
import {notifyFlag, webhooksFor} from '../cli/notify.js'
import {describeSignal, exitInterrupted, trapInterrupts} from '../cli/interrupt.js'
import {InterruptedError} from '../util/interrupt.js'
import {DataCommand, dbFlag, metaDbFlag} from '../cli/data-command.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {rollback, type RollbackResult} from '../cutover/rollback.js'
import {replicaTimeoutMs} from '../cutover/replicas.js'

export default class Rollback extends DataCommand {
  static summary = 'Undo a cutover from its plan: the pre-cutover live data comes back, checked against its checksum.'

  static description = `Default: the latest plan in <state-dir>/plans that changed something (a cancelled --at is \
skipped). On a cluster the staged keys go back to the shadow db and the archived keys back to live; on a standalone \
server it is one more SWAPDB. The rollback is journaled too: running it again after a crash finishes it, and running \
it on a rolled-back plan changes nothing.

Before the first change it checks that the plan can still be undone: no later cutover on the same dbs is still in \
place, and live, shadow and archive hold what the plan says. Otherwise it refuses (exit 1) and changes nothing. A \
shadow re-staged since a cluster cutover can be emptied first with --discard-shadow.`

  static examples = [
    {description: 'Undo the latest cutover', command: '<%= config.bin %> <%= command.id %> --yes'},
    {description: 'Undo a given plan', command: '<%= config.bin %> <%= command.id %> 20261127-000100-ab12 --yes'},
    {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --yes --json'},
  ]

  static args = {
    plan: Args.string({description: 'Plan id or path (default: the latest plan that changed something).'}),
  }

  static flags = {
    'lock-db': dbFlag('Database holding the cutover lock key.'),
    'meta-db': metaDbFlag,
    'replica-timeout': Flags.string({summary: 'After each primary moves keys back, wait this long for its replicas to apply it; else the check fails (default 5s; config replicaTimeout).'}),
    'discard-shadow': Flags.boolean({summary: 'Delete the keys staged into the shadow since the cutover, so the cut-over keys can move back there.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required when not on a terminal).'}),
    notify: notifyFlag,
  }

  async run(): Promise<RollbackResult> {
    const {args, flags} = await this.parse(Rollback)
    const config = await this.settings({...flags, lockDb: flags['lock-db'], metaDb: flags['meta-db'], replicaTimeout: flags['replica-timeout']})
    const replicaTimeout = replicaTimeoutMs(config.replicaTimeout)
    this.notifyTo(webhooksFor(flags.notify, config, true))
    let progress = startProgress('Rolling back…')
    // Ctrl-C / SIGTERM before the first change cancels (nothing changed, lock released). Once keys
    // move back the first one is only acknowledged: the rollback finishes; a second leaves at once,
    // and running the same rollback again finishes it (every step is journaled and idempotent).
    let moving = false
    const interrupts = trapInterrupts()
    interrupts.handle((count, name) => {
      const key = describeSignal(name)
      if (!moving && count === 1) return interrupts.abort(name)
      if (moving && count === 1) return progress.note(`${key}: the rollback is moving keys back and will finish (${key} again leaves at once; the same rollback run again finishes it)`)
      exitInterrupted(`${key} again: stopped at once; run the same rollback again to finish it`)
    })
    try {
      const result = await rollback({
        ...this.target(flags.url, config),
        stateDir: config.stateDir,
        plan: args.plan,
        lockDb: config.lockDb,
        discardShadow: flags['discard-shadow'],
        replicaTimeoutMs: replicaTimeout,
        dbs: {live: config.live, shadow: config.shadow, archive: config.archive},
        meta: this.meta(config, (message) => progress.note(message)),
        confirm: async (summary) => {
          if (flags.yes) return true
          progress.stop()
          const ok = await confirmOnTerminal(
            `Roll back plan ${summary.planId} (${summary.phase}) on ${summary.target}: live db ${summary.dbs.live} gets its ${summary.restores.keys.toLocaleString('en-US')} previous keys back${
              summary.shadowToDiscard > 0 ? `, after deleting the ${summary.shadowToDiscard.toLocaleString('en-US')} keys now in shadow db ${summary.dbs.shadow}` : ''
            }?`,
            flags.yes,
            interrupts.signal,
          )
          progress = startProgress('Rolling back…')
          return ok
        },
        signal: interrupts.signal,
        onProgress: (p) => {
          moving = true
          progress.update(`Rolling back: ${formatCount(p.keys)} keys, ${p.slots}/${p.totalSlots} slots`)
        },
      })
      progress.stop()
      if (result.alreadyDone) {
        const why = result.summary.phase === 'planned' ? 'its cutover never changed anything' : 'already rolled back'
        const later = result.supersededBy ? `; the later cutover ${result.supersededBy} ran since` : ''
        this.log(`plan ${result.planId}: nothing to undo (${why}${later}); live holds ${formatCount(result.live.keys)} keys, checksum ${result.live.checksum}`)
        return result
      }
      const verified = result.verified.ok ? color.green('live matches its pre-cutover checksum') : color.red(`check failed: ${result.verified.problems.join('; ')}`)
      this.log(`${color.green('✓')} rolled back plan ${result.planId}: ${formatCount(result.keysRestored)} keys restored to live, ${formatCount(result.keysUnstaged)} staged keys back in the shadow, in ${formatDuration(result.durationMs)}`)
      this.log(`  ${verified} (${formatCount(result.live.keys)} keys, ${result.live.checksum})`)
      if (result.replicas.length > 0) this.log(`  replicas: ${result.replicas.map((ack) => `${ack.primary} ${ack.acked}/${ack.replicas} in ${Math.round(ack.lagMs)} ms`).join(', ')}`)
      return result
    } catch (error) {
      progress.fail()
      if (error instanceof InterruptedError && !moving) throw new InterruptedError(`rollback cancelled (${error.message.replace(/^interrupted \((.*)\)$/, '$1')}) before any change: nothing changed`)
      throw error
    } finally {
      interrupts.dispose()
    }
  }
}
