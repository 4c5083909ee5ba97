import {Flags} from '@oclif/core'
import {confirmOnTerminal} from '../cli/confirm.js'
import {notifyFlag, webhooksFor} from '../cli/notify.js'
import {DataCommand, dbFlag, metaDbFlag} from '../cli/data-command.js'
import {guardConfigFlags, guardFlags, guardsLine, guardsOfRun, refusalDetails} from '../cli/guards.js'
import {GuardRefusedError} from '../cutover/guards.js'
import {color, formatCount, formatDuration, startProgress, type Progress} from '../cli/output.js'
import {describeSignal, exitInterrupted, trapInterrupts} from '../cli/interrupt.js'
import {formatInZone} from '../schedule/index.js'
import {cutover, type CutoverResult, type CutoverSummary, type StrategyChoice} from '../cutover/cutover.js'
import type {CutoverMode} from '../cutover/plan.js'
import {replicaTimeoutMs, type ReplicaAck} from '../cutover/replicas.js'

export default class Cutover extends DataCommand {
  static summary = 'Switch live to the staged dataset — now, at a time, or on a cron schedule — with a rollback plan on disk first.'

  static description = `Pre-flight first: the target is healthy (cluster_state ok, every slot covered, nothing \
migrating, every primary reachable), the shadow still matches its manifest (a full verify), the archive db is \
empty (or holds exactly the rollback data the previous cutover on these dbs left there: it is discarded just before \
the switch, and that cutover can no longer be rolled back; --keep-archive refuses instead), no other cutover \
holds the lock, and the guards hold: compared with live (as flip diff does), the dataset \
removes at most 50% of live's keys and drops no numeric value (a price) by more than 90% by default (--min-keys, \
--max-removed, --max-changed, --max-drop, --max-rise; off or --no-guards to disable). Then a rollback plan is written and fsynced to <state-dir>/plans/ \
before anything changes, with a journal beside it. The switch is one SWAPDB on a standalone server, and batched \
MOVEs (one MULTI per slot, all primaries in parallel) on a cluster; --atomic runs one script per primary, \
started together, so the switch appears at one instant. Afterwards live is checked against the manifest.

--at takes HH:MM[:SS] (next occurrence in --tz, default local time) or an ISO-8601 instant; --cron waits for the \
next occurrence of a cron expression. The process connects and runs pre-flight --prepare before the moment, \
counts down and reports the drift.

Ctrl-C or SIGTERM before the switch (pre-flight, the prompt, the countdown) cancels: nothing changed, the \
lock is released, exit 130. During the switch the first one is acknowledged and the switch finishes; a \
second one stops it after the batch in flight (exit 130) and prints the --resume and rollback commands.`

  static examples = [
    {description: 'Switch now (asks for confirmation on a terminal)', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'At one minute past midnight, New York time, unattended', command: '<%= config.bin %> <%= command.id %> --at 00:01 --tz America/New_York --yes'},
    {description: 'On a cron schedule, refusing to fire more than 2 minutes late', command: "<%= config.bin %> <%= command.id %> --cron '1 0 * * 5' --tz Europe/Berlin --not-after 2m --yes"},
    {description: 'All primaries at one instant (cluster)', command: '<%= config.bin %> <%= command.id %> --atomic --yes'},
    {description: 'Keep live keys the dataset does not mention', command: '<%= config.bin %> <%= command.id %> --mode merge --yes'},
    {description: 'Show what would happen, change nothing', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {description: 'Guard a price flip: at least 40,000 keys, no price down more than 70 %', command: '<%= config.bin %> <%= command.id %> --min-keys 40000 --max-drop 70% --guard-field price --yes'},
    {description: 'Finish an interrupted cutover', command: '<%= config.bin %> <%= command.id %> --resume 20261127-000100-ab12 --yes'},
  ]

  static flags = {
    manifest: Flags.string({summary: 'Manifest id or path (default: the newest complete manifest of the shadow db).'}),
    at: Flags.string({summary: 'When: HH:MM[:SS] (next occurrence in --tz) or an ISO-8601 instant.', exclusive: ['cron']}),
    cron: Flags.string({summary: 'When: the next occurrence of this cron expression (in --tz).', exclusive: ['at']}),
    tz: Flags.string({summary: 'IANA time zone for --at/--cron (default: local time).'}),
    'not-after': Flags.string({summary: 'Refuse to fire later than this: a duration after the moment (2m) or an instant.'}),
    prepare: Flags.string({summary: 'Connect and run pre-flight this long before the moment.', default: '60s'}),
    mode: Flags.string({summary: 'replace: live becomes exactly the dataset; merge: other live keys stay.', options: ['replace', 'merge'], default: 'replace'}),
    strategy: Flags.string({summary: 'auto: swapdb on a standalone server (replace mode), move on a cluster.', options: ['auto', 'move', 'swapdb'], default: 'auto'}),
    atomic: Flags.boolean({summary: 'Cluster: one script per primary, started together, so the switch appears at one instant.'}),
    live: dbFlag('Live database (default 0).'),
    shadow: dbFlag('Shadow database (default 1).'),
    archive: dbFlag('Where the replaced live keys go (default 2).'),
    'lock-db': dbFlag('Database holding the cutover lock key (default: the highest db not in use).'),
    'meta-db': metaDbFlag,
    'skip-verify': Flags.boolean({summary: 'Skip the full verify of the shadow in pre-flight (counts are still checked).'}),
    'discard-archive': Flags.boolean({summary: 'Empty a non-empty archive db instead of refusing, whatever it holds.', exclusive: ['keep-archive']}),
    'keep-archive': Flags.boolean({summary: 'Refuse a non-empty archive db even when it holds the previous cutover’s rollback data (no rotation).', exclusive: ['discard-archive']}),
    'allow-empty': Flags.boolean({summary: 'Replace mode: allow a manifest of 0 keys, which removes every key from live (refused without it).'}),
    'allow-degraded': Flags.boolean({summary: 'Cut over although a primary has a replica down (failed or loading); refused without it.'}),
    'replica-timeout': Flags.string({summary: 'After each primary’s switch, wait this long for its replicas to apply it; else the check fails (default 5s; config replicaTimeout).'}),
    'dry-run': Flags.boolean({summary: 'Run every check and print the plan; change nothing.'}),
    resume: Flags.string({summary: 'Finish an interrupted cutover from its plan (id or path).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required when not on a terminal).'}),
    notify: notifyFlag,
    ...guardFlags,
  }

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(Cutover)
    const config = await this.settings({...flags, lockDb: flags['lock-db'], metaDb: flags['meta-db'], replicaTimeout: flags['replica-timeout'], ...guardConfigFlags(flags)})
    const replicaTimeout = replicaTimeoutMs(config.replicaTimeout)
    this.notifyTo(webhooksFor(flags.notify, config, true))
    const target = this.target(flags.url, config)
    let progress: Progress = startProgress('Pre-flight…')
    let stage: 'preflight' | 'waiting' | 'switching' = 'preflight'
    // Ctrl-C / SIGTERM: before the switch, cancel (nothing changes); a second one leaves at once
    // (still nothing changed; a lock left behind is taken over by the next run on this machine).
    // Once the switch has started the first one is only acknowledged — a price flip stopped
    // half way is worse than one that finishes in seconds — and a second one stops it after the
    // batch in flight, with the journal in step, so --resume or rollback can finish it.
    const interrupts = trapInterrupts()
    const stopSwitch = new AbortController()
    let duringSwitch = 0
    interrupts.handle((count, name) => {
      const key = describeSignal(name)
      if (stage !== 'switching') {
        if (count === 1) return interrupts.abort(name)
        return exitInterrupted(`${key} again: cancelled before the switch: nothing changed`)
      }
      duringSwitch++
      if (duringSwitch === 1) {
        progress.note(`${key}: the switch is in progress and will finish (${key} again stops it after the current batch; --resume or rollback then finishes it)`)
      } else if (!stopSwitch.signal.aborted) {
        progress.note(`${key} again: stopping after the current batch…`)
        stopSwitch.abort(new Error(`interrupted (${key})`))
      }
    })
    let tz = config.tz ?? ''
    let moment: Date | undefined
    const when = (date: Date) => (tz ? formatInZone(date, tz) : date.toISOString())
    /** One spinner (or plain-line writer) per stage; the countdown prints a line a minute off a terminal. */
    const enter = (next: typeof stage, text: string, intervalMs?: number) => {
      progress.stop()
      stage = next
      progress = startProgress(text, {intervalMs})
    }
    try {
      const result = await cutover({
        ...target,
        stateDir: config.stateDir,
        dbs: {live: config.live, shadow: config.shadow, archive: config.archive},
        lockDb: config.lockDb,
        manifest: flags.manifest,
        mode: flags.mode as CutoverMode,
        strategy: flags.strategy as StrategyChoice,
        atomic: flags.atomic,
        schedule: {at: flags.at, cron: flags.cron, tz: flags.tz ?? config.tz, notAfter: flags['not-after'], prepare: flags.prepare},
        skipVerify: flags['skip-verify'],
        discardArchive: flags['discard-archive'],
        keepArchive: flags['keep-archive'],
        allowEmpty: flags['allow-empty'],
        allowDegraded: flags['allow-degraded'],
        replicaTimeoutMs: replicaTimeout,
        guards: guardsOfRun(config, flags),
        dryRun: flags['dry-run'],
        resume: flags.resume,
        meta: this.meta(config, (message) => progress.note(message)),
        signal: interrupts.signal,
        stopSignal: stopSwitch.signal,
        confirm: async (summary) => {
          tz = summary.schedule.tz
          if (summary.dryRun || flags.yes) return true
          progress.stop()
          const ok = await confirmOnTerminal(describe(summary), flags.yes, interrupts.signal)
          progress = startProgress('Pre-flight…')
          return ok
        },
        onProgress: (event) => {
          switch (event.phase) {
            case 'preflight':
              progress.update(`Pre-flight: ${event.step}${event.keys === undefined ? '' : ` (${formatCount(event.keys)} keys)`}`)
              break
            case 'waiting':
              tz = event.tz
              moment = event.scheduledAt
              if (event.scheduledAt.getTime() - Date.now() >= 1000) enter('waiting', `Cutover scheduled for ${when(event.scheduledAt)}`, 60_000)
              break
            case 'switch-started':
              enter('switching', 'Switching…')
              break
            case 'armed':
              progress.note(`Pre-flight passed in ${formatDuration(event.preflightMs)}; rollback plan written: ${event.planPath}`)
              break
            case 'switch':
              if (stage !== 'switching') enter('switching', 'Switching…')
              progress.update(`Switching: ${formatCount(event.keys)} keys, ${event.slots}/${event.totalSlots} slots`)
              break
            case 'check':
              progress.update('Checking live against the manifest…')
              break
          }
        },
        onCountdown: (remainingMs, at, target) => {
          if (stage !== 'waiting') return
          const what = target === 'preflight' ? `Pre-flight at ${when(at)} (cutover at ${when(moment ?? at)})` : `Cutover at ${when(at)}`
          progress.update(`${what} — in ${formatDuration(remainingMs)} (Ctrl-C cancels, nothing changed yet)`)
        },
      })
      progress.stop()
      this.render(result)
      return result
    } catch (error) {
      progress.fail()
      if (error instanceof GuardRefusedError && !this.jsonEnabled()) process.stderr.write(refusalDetails(error.report))
      throw error
    } finally {
      interrupts.dispose()
    }
  }

  private render(result: CutoverResult): void {
    const s = result.summary
    if (result.guards) this.log(guardsLine(result.guards))
    if (result.dryRun) {
      this.log(`${color.cyan('dry run')}: would switch ${formatCount(s.manifest.keys)} keys from db ${s.dbs.shadow} into live db ${s.dbs.live} and ${liveFate(s)} (${result.strategy}, ${result.mode}) at ${formatInZone(new Date(s.schedule.scheduledAt), s.schedule.tz)}; nothing changed`)
      if (result.archiveDiscarded) this.log(`  ${archiveLine(result, true)}`)
      return
    }
    if (result.alreadyDone) {
      this.log(`cutover ${result.planId} already done (switched at ${result.startedAt}, check passed); nothing changed now`)
      if (result.rollbackCommand) this.log(`  undo with: ${result.rollbackCommand}`)
      return
    }
    const verified = result.verified.ok ? color.green('live matches the manifest') : color.red(`live check failed: ${result.verified.problems.join('; ')}`)
    this.log(`${color.green('✓')} cutover ${result.resumed ? 'resumed and ' : ''}done: ${formatCount(result.keysSwitched)} keys now live in db ${s.dbs.live}, ${formatCount(result.keysArchived)} old keys set aside (${result.strategy}, ${result.mode}) in ${formatDuration(result.durationMs)}`)
    this.log(`  ${verified}`)
    if (s.schedule.kind !== 'now') this.log(`  scheduled ${formatInZone(new Date(result.scheduledAt), s.schedule.tz)}, started ${formatInZone(new Date(result.startedAt), s.schedule.tz)}, drift ${result.driftMs} ms`)
    if (result.atomic) {
      const a = result.atomic
      this.log(`  atomic: scripts overlapped ${a.overlapProven ? color.green('(proven)') : color.red('(NOT proven)')} by ${Math.round(a.overlapMarginMs)} ms; script ${Math.round(a.scriptMs)} ms, client stall ${Math.round(a.clientStallMs)} ms`)
    }
    if (result.replicas.length > 0) this.log(`  ${replicasLine(result.replicas)}${atomicReplicasNote(result)}`)
    if (result.conflicts.count > 0) this.log(`  ${color.yellow(`${formatCount(result.conflicts.count)} conflicts`)}: ${result.conflicts.keys.join(', ')}`)
    if (result.archiveDiscarded) this.log(`  ${archiveLine(result, false)}`)
    this.log(`  plan ${result.planPath}`)
    if (result.rollbackCommand) this.log(`  undo with: ${result.rollbackCommand}`)
  }
}

/** Per primary: replicas that applied the switch, and when. */
function replicasLine(acks: ReplicaAck[]): string {
  return `replicas: ${acks.map((ack) => `${ack.primary} ${ack.acked}/${ack.replicas} in ${Math.round(ack.lagMs)} ms`).join(', ')}`
}

function atomicReplicasNote(result: CutoverResult): string {
  const after = result.atomic?.replicasCaughtUpMs
  return after === null || after === undefined ? '' : `; the last replica had it ${Math.round(after)} ms after the last primary`
}

/** Archive rotation, one line: whose rollback data went, and that its plan is superseded. */
function archiveLine(result: CutoverResult, dryRun: boolean): string {
  const d = result.archiveDiscarded!
  return `archive db ${result.summary.dbs.archive}: ${dryRun ? 'would discard' : 'discarded'} the rollback data of cutover ${d.planId} (${formatCount(d.keys)} keys, checksum ${d.checksum}); that cutover can no longer be rolled back`
}

function describe(summary: CutoverSummary): string {
  const when = summary.schedule.kind === 'now' ? 'now' : `at ${formatInZone(new Date(summary.schedule.scheduledAt), summary.schedule.tz)}`
  return `Switch ${summary.manifest.keys.toLocaleString('en-US')} staged keys (manifest ${summary.manifest.id}) from db ${summary.dbs.shadow} into live db ${summary.dbs.live} and ${liveFate(summary)}, on ${summary.target} ${when}, ${summary.strategy}/${summary.mode}?`
}

/** What happens to live's current keys, with their count (0 staged keys would otherwise hide "live is emptied"). */
function liveFate(summary: CutoverSummary): string {
  const keys = summary.live.keys.toLocaleString('en-US')
  if (summary.liveKeysToArchive === null) return `replace those of its ${keys} current keys the dataset also has (old values to archive db ${summary.archiveDb}; the others stay live)`
  const where = summary.strategy === 'swapdb' ? `shadow db ${summary.archiveDb} (swapped)` : `archive db ${summary.archiveDb}`
  return `move its ${keys} current keys to ${where}, removing them from live`
}
