// Writing a new cutover's rollback plan: what the target and its dbs held, the manifest, the
// schedule and the commands to resume or undo it; for move/atomic the staged key names first.
import {mkdirSync} from 'node:fs'
import type {LoadedManifest} from '../dataset/manifest.js'
import {SLOT_COUNT} from '../util/keyslot.js'
import {keysFilePath, planCommands, planPath, plansDir, writeKeysFile, writePlan, type CutoverMode, type CutoverPlan, type LoadedPlan, type Strategy} from './plan.js'
import type {Preflight} from './preflight.js'
import type {Schedule} from '../schedule/index.js'
import type {Session, SlotKeys} from './state.js'

export interface NewPlan {
  stateDir: string
  id: string
  session: Session
  /** The target URL without its password, as the plan records it. */
  displayUrl: string
  strategy: Strategy
  mode: CutoverMode
  manifest: LoadedManifest
  prepared: Preflight
  schedule: Schedule
}

/** The plan of a cutover that passed pre-flight, with its staged key names (move/atomic), fsynced. */
export async function writeCutoverPlan(input: NewPlan): Promise<LoadedPlan> {
  const {stateDir, id, session, displayUrl, strategy, mode, manifest, prepared, schedule} = input
  const identity = session.live.identity()
  const plan: CutoverPlan = {
    kind: 'flip-cutover-plan',
    version: 1,
    id,
    createdAt: new Date().toISOString(),
    target: {mode: identity.mode, url: displayUrl, nodes: identity.nodes},
    dbs: session.dbs,
    strategy,
    mode,
    manifest: {id: manifest.manifest.id, path: manifest.path, keys: manifest.manifest.keys, checksum: manifest.manifest.checksum},
    before: prepared.before,
    schedule: {kind: schedule.kind, scheduledAt: schedule.scheduledAt.toISOString(), tz: schedule.tz},
    commands: planCommands(id, stateDir),
  }
  if (prepared.archiveDiscard) plan.archiveDiscard = prepared.archiveDiscard
  if (strategy !== 'swapdb') {
    // The key names first: a plan on disk always has what resume and rollback need.
    mkdirSync(plansDir(stateDir), {recursive: true})
    writeKeysFile(keysFilePath(planPath(stateDir, id)), flatten(prepared.stagedKeys))
    plan.keysFile = `${id}.keys`
  }
  return writePlan(stateDir, plan)
}

function* flatten(bySlot: SlotKeys | undefined): Iterable<Buffer> {
  if (!bySlot) return
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const keys = bySlot[slot]
    if (keys) yield* keys
  }
}
