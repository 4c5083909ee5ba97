// Cutover, rollback and scheduling: what the commands call. Nothing here prints or exits.
//   cutover(options)   schedule → pre-flight → plan on disk → switch → check   (cutover.ts)
//   rollback(options)  undo a plan, default the newest                           (rollback.ts)
//   resolveSchedule / nextCronTimes / sleepUntil                                  (schedule.ts)
export {cutover, chooseStrategy, resolveDbs, type CutoverOptions, type CutoverProgress, type CutoverResult, type CutoverSummary, type StrategyChoice} from './cutover.js'
export {rollback, type RollbackOptions, type RollbackResult, type RollbackSummary} from './rollback.js'
export {
  resolveSchedule,
  nextCronTimes,
  previousCronTime,
  parseAt,
  parseDuration,
  sleepUntil,
  waitForMoment,
  validateTimeZone,
  localTimeZone,
  type Schedule,
  type ScheduleOptions,
  type Firing,
} from './schedule.js'
export {loadPlan, listPlanIds, planPath, plansDir, type CutoverPlan, type CutoverMode, type Strategy, type LoadedPlan} from './plan.js'
export {readJournal, phaseOf, type JournalEntry, type PlanPhase} from './journal.js'
export {acquireLock, chooseLockDb, LOCK_KEY, type HeldLock} from './lock.js'
export {CutoverUsageError, CutoverRefusedError, CutoverCancelledError, CutoverFailedError, CutoverUnreachableError} from './errors.js'
export type {AtomicReport} from './switch.js'
