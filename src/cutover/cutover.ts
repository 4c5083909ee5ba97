// flip cutover, as a function: schedule → inspect → confirm → (sleep) → pre-flight + plan →
// (sleep) → switch → check (run.ts), or --resume of an interrupted one (resume.ts). It never
// prints and never exits: callbacks report progress and the countdown and ask for
// confirmation; errors carry their exit code (errors.ts).
import {resumeCutover} from './resume.js'
import {runCutover} from './run.js'
import type {CutoverOptions, CutoverResult} from './types.js'

export type {CutoverOptions, CutoverResult, CutoverSummary, StrategyChoice} from './types.js'

export function cutover(options: CutoverOptions): Promise<CutoverResult> {
  return options.resume ? resumeCutover(options) : runCutover(options)
}
