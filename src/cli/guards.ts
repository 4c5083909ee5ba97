// The cutover guards on the command line: their flags, the settings of a run (flag > env >
// flip.config.json > default, see config.ts), one line for guards that held and the details of a
// refusal (the offending keys) on stderr.
import {Flags} from '@oclif/core'
import {DEFAULT_GUARDS, guardSettings, type GuardReport, type GuardResult, type GuardSettings, type Offender} from '../cutover/guards.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import type {FlipConfig} from './config.js'
import {color, colorStderr, formatCount} from './output.js'

const GUARD_FLAGS = ['min-keys', 'max-removed', 'max-changed', 'max-drop', 'max-rise', 'guard-field']
const group = 'GUARDS'
const fallback = (key: keyof typeof DEFAULT_GUARDS) => `default ${DEFAULT_GUARDS[key]}; env FLIP_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}; flip.config.json "${key}"`

export const guardFlags = {
  'min-keys': Flags.string({summary: `Refuse a dataset with fewer keys than this (${fallback('minKeys')}).`, helpGroup: group}),
  'max-removed': Flags.string({
    summary: `Refuse when more live keys than this would leave live, as a count or a percent of live: 5000 or 50% (${fallback('maxRemoved')}).`,
    helpGroup: group,
  }),
  'max-changed': Flags.string({summary: `Refuse when more keys than this would change value: 5000 or 10% of live (${fallback('maxChanged')}).`, helpGroup: group}),
  'max-drop': Flags.string({
    summary: `Refuse when any numeric value (a number string, a numeric hash field) would drop by more than this percent; a price going to 0 drops 100% (${fallback('maxDrop')}).`,
    helpGroup: group,
  }),
  'max-rise': Flags.string({summary: `Refuse when any numeric value would rise by more than this percent (${fallback('maxRise')}).`, helpGroup: group}),
  'guard-field': Flags.string({summary: 'Hash field the numeric guards judge, e.g. price (repeatable; default: every numeric field; flip.config.json "guardFields").', multiple: true, helpGroup: group}),
  // Not oclif's `exclusive`: its usage line would present the guard flags as alternatives to each other.
  'no-guards': Flags.boolean({summary: 'Judge no guard at all (each one can also be set to off).', helpGroup: group}),
}

type GuardFlagValues = {[K in keyof typeof guardFlags]?: K extends 'guard-field' ? string[] : K extends 'no-guards' ? boolean : string}

/** The flags as config.ts settings (undefined = not given, so env and flip.config.json apply). */
export function guardConfigFlags(flags: GuardFlagValues): Partial<FlipConfig> {
  return {
    minKeys: flags['min-keys'],
    maxRemoved: flags['max-removed'],
    maxChanged: flags['max-changed'],
    maxDrop: flags['max-drop'],
    maxRise: flags['max-rise'],
    guardFields: flags['guard-field'],
  }
}

export function guardsOfRun(config: FlipConfig, flags: GuardFlagValues): GuardSettings {
  const given = GUARD_FLAGS.find((name) => flags[name as keyof GuardFlagValues] !== undefined)
  if (flags['no-guards'] && given) throw new FlipError(`--no-guards turns every guard off: drop --${given}, or set the others to off instead`, EXIT.usage)
  return guardSettings(config, config.guardFields, flags['no-guards'])
}

/** "guards ok: max-removed 1 of 101 live keys (1.0 %) ≤ 50 %, max-drop 35 % ≤ 90 %; off: min-keys, max-changed, max-rise" */
export function guardsLine(guards: GuardResult[]): string {
  const on = guards.filter((guard) => guard.limit !== null)
  const off = guards.filter((guard) => guard.limit === null).map((guard) => guard.name)
  if (on.length === 0) return `guards: all off`
  const limit = (guard: GuardResult) => guard.limit!.replace('%', ' %')
  const judged = on.map((guard) => {
    if (guard.of === 0) return `${guard.name} (live is empty: nothing to compare)`
    return guard.name === 'min-keys' ? `min-keys ${measured(guard)} ≥ ${limit(guard)}` : `${guard.name} ${measured(guard)} ≤ ${limit(guard)}`
  })
  return `${color.green('guards ok')}: ${judged.join(', ')}${off.length ? `; off: ${off.join(', ')}` : ''}`
}

function measured(guard: GuardResult): string {
  return guard.unit === '%' ? `${guard.actual} %` : formatCount(guard.actual ?? 0)
}

/** What a refusal prints on stderr before its one-line error: each guard, and the offending keys. */
export function refusalDetails(report: GuardReport): string {
  const lines = ['Guards:']
  for (const guard of report.guards) {
    const mark = guard.limit === null ? colorStderr.dim('off') : guard.ok ? colorStderr.green('ok') : colorStderr.red('REFUSED')
    lines.push(`  ${mark} --${guard.name}: ${guard.message}`)
    for (const offender of guard.offending) lines.push(`      ${describeOffender(offender)}`)
    if (!guard.ok && guard.count > guard.offending.length && guard.offending.length > 0) lines.push(`      … and ${formatCount(guard.count - guard.offending.length)} more`)
  }
  return lines.join('\n') + '\n'
}

function describeOffender(offender: Offender): string {
  if (offender.changePct !== undefined) {
    const pct = `${offender.changePct > 0 ? '+' : ''}${offender.changePct} %`
    return `${offender.key}${offender.field === undefined ? '' : ` ${offender.field}`}: ${offender.before} → ${offender.after} (${pct})`
  }
  return offender.change ? `${offender.key}: ${offender.change}` : offender.key
}
