// The journal beside a plan: <stateDir>/plans/<id>.journal, one JSON object per line, each
// line appended and fsynced before the code goes on. It records what happened (phase changes
// and per node/slot batches) so a crashed cutover can be resumed or rolled back and so an
// operator can read what was done. A torn last line (crash mid-append) is ignored.
//
// Correctness does not hang on the journal being exact: every step of a cutover or rollback
// is idempotent and decided from the server's state (see strategies), so a batch that ran but
// was not journaled is simply found done when resumed.
import {closeSync, fsyncSync, openSync, readFileSync, writeSync} from 'node:fs'

export type JournalEvent =
  /** The plan is on disk; nothing changed yet. */
  | {event: 'planned'}
  /** The first change is about to be sent. */
  | {event: 'switch-started'; strategy: string; scheduledAt?: string; startedAt: string}
  /** A batch of slots on one node is done (cluster move, or a standalone slot batch). */
  | {event: 'batch'; phase: 'cutover' | 'rollback'; node: string; slots: Array<[number, number]>; moved: number; archived: number}
  /** --atomic: one node's script finished (server TIME at its start and end, µs). */
  | {event: 'script'; phase: 'cutover' | 'rollback'; node: string; startUs: number; endUs: number; moved: number; archived: number}
  /** Standalone: SWAPDB sent / acknowledged. */
  | {event: 'swapdb'; phase: 'cutover' | 'rollback'; acknowledged: boolean}
  /** Every slot is switched; `verified` tells whether the post-switch check passed. */
  | {event: 'switched'; keys: number; durationMs: number}
  /**
   * A cutover's check passed (ok) or failed. A passed move/atomic cutover also records what it left
   * in the archive db (its rollback data), so the next cutover can recognise and rotate it.
   */
  | {event: 'verified'; phase: 'cutover' | 'rollback'; ok: boolean; detail?: string; archive?: {db: number; keys: number; checksum: string}}
  /** Archive rotation: the previous cutover's rollback data deleted from the archive db (FLUSHDB ASYNC), before the switch. */
  | {event: 'archive-discarded'; planId: string; keys: number; checksum: string}
  | {event: 'rollback-started'; startedAt: string}
  /** rollback --discard-shadow: the shadow's keys (a dataset staged after the cutover) deleted so the staged keys can go back. */
  | {event: 'shadow-discarded'; keys: number}
  | {event: 'rolled-back'; durationMs: number}
  /** outcome: how a cutover that never switched ended (history tells a Ctrl-C from a refusal). */
  | {event: 'failed'; phase: 'cutover' | 'rollback'; message: string; outcome?: 'cancelled' | 'refused'}

export type JournalEntry = JournalEvent & {at: string}

export type PlanPhase = 'planned' | 'switching' | 'switched' | 'rolling-back' | 'rolled-back'

export class Journal {
  private constructor(readonly path: string) {}

  /** Opens (creating when absent) the journal at `path`. */
  static open(path: string): Journal {
    closeSync(openSync(path, 'a', 0o600))
    return new Journal(path)
  }

  /** Appends one entry and fsyncs it before returning. */
  append(event: JournalEvent): JournalEntry {
    const entry = {at: new Date().toISOString(), ...event} as JournalEntry
    const fd = openSync(this.path, 'a', 0o600)
    try {
      const line = Buffer.from(JSON.stringify(entry) + '\n')
      let written = 0
      while (written < line.length) written += writeSync(fd, line, written, line.length - written)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    return entry
  }

  entries(): JournalEntry[] {
    return readJournal(this.path)
  }
}

export function readJournal(path: string): JournalEntry[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const entries: JournalEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      entries.push(JSON.parse(line) as JournalEntry)
    } catch {
      // A line torn by a crash mid-append: what it described is re-derived from the server.
    }
  }
  return entries
}

/** Where a plan stands according to its journal. */
export function phaseOf(entries: readonly JournalEntry[]): PlanPhase {
  let phase: PlanPhase = 'planned'
  for (const entry of entries) {
    switch (entry.event) {
      case 'switch-started':
        phase = 'switching'
        break
      case 'switched':
        phase = 'switched'
        break
      case 'rollback-started':
        phase = 'rolling-back'
        break
      case 'rolled-back':
        phase = 'rolled-back'
        break
      default:
        break
    }
  }
  return phase
}
