// A 5-field cron expression as a systemd OnCalendar= value in a time zone, e.g.
// "1 0 * * *" in America/New_York → "*-*-* 00:01:00 America/New_York", and
// "*/15 9-17 * * 1-5" → "Mon..Fri *-*-* 09..17:00,15,30,45:00 UTC".
// cron-parser expands each field; each becomes a systemd list (ranges written a..b).
// Not expressible: both day-of-month and day-of-week restricted (cron ORs them, systemd ANDs
// them) and cron's L/W/# forms — those are refused with a usage error.
import {CronExpressionParser} from 'cron-parser'
import {InitError} from './errors.js'

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

export function cronToOnCalendar(expression: string, tz: string): string {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) throw new InitError(`the schedule files need a 5-field cron expression (minute hour day month weekday), got "${expression}"`)
  const parsed = CronExpressionParser.parse(expression, {tz})
  const f = parsed.fields
  const numbers = (values: readonly unknown[], what: string): number[] => {
    if (!values.every((value) => typeof value === 'number')) {
      throw new InitError(`cron expression "${expression}": the ${what} field cannot be written as a systemd OnCalendar (L, W and # have no equivalent)`)
    }
    return [...new Set(values as number[])].sort((a, b) => a - b)
  }
  const minutes = numbers(f.minute.values, 'minute')
  const hours = numbers(f.hour.values, 'hour')
  const days = numbers(f.dayOfMonth.values, 'day-of-month')
  const months = numbers(f.month.values, 'month')
  const weekdays = [...new Set(numbers(f.dayOfWeek.values, 'day-of-week').map((day) => day % 7))].sort((a, b) => a - b)
  const allDays = fields[2] === '*' || fields[2] === '?'
  const allWeekdays = fields[4] === '*' || fields[4] === '?' || weekdays.length === 7
  if (!allDays && !allWeekdays) {
    throw new InitError(`cron expression "${expression}" restricts both the day of the month and the weekday; cron runs when either matches, systemd only when both do: split it into two timers`)
  }
  const list = (values: number[], full: number, pad: number) => (values.length === full ? '*' : ranges(values, pad))
  const weekdayPart = allWeekdays ? '' : `${ranges(weekdays, 0, (day) => DAY_NAMES[day])} `
  const date = `*-${list(months, 12, 2)}-${allDays ? '*' : ranges(days, 2)}`
  const time = `${list(hours, 24, 2)}:${list(minutes, 60, 2)}:00`
  return `${weekdayPart}${date} ${time} ${tz}`
}

/** [0,1,2,5] → "00..02,05" (names instead of numbers when given). */
function ranges(values: number[], pad: number, name?: (n: number) => string): string {
  const show = name ?? ((n: number) => String(n).padStart(pad, '0'))
  const parts: string[] = []
  for (let i = 0; i < values.length; ) {
    let j = i
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++
    if (j - i >= 2) parts.push(`${show(values[i])}..${show(values[j])}`)
    else for (let k = i; k <= j; k++) parts.push(show(values[k]))
    i = j + 1
  }
  return parts.join(',')
}
