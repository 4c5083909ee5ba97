// Scheduling a cutover: --at, --cron, --tz, --not-after, --prepare, and the sleeper.
import {describe, expect, it} from 'vitest'
import {CutoverCancelledError, CutoverRefusedError, CutoverUsageError} from '../../src/cutover/errors.js'
import {formatInZone, isoInZone, nextCronTimes, parseAt, parseDuration, resolveSchedule, sleepUntil, waitForMoment} from '../../src/schedule/index.js'

const usage = (fn: () => unknown): CutoverUsageError => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(CutoverUsageError)
    expect((error as CutoverUsageError).exitCode).toBe(2)
    expect((error as Error).message).not.toContain('\n')
    return error as CutoverUsageError
  }
  throw new Error('expected a usage error')
}

describe('--at HH:MM[:SS]', () => {
  it('is the next occurrence of that wall time in the zone', () => {
    // 23:00 in New York on the evening of Thanksgiving 2026 (UTC-5).
    const now = new Date('2026-11-27T04:00:00Z')
    expect(parseAt('00:01', 'America/New_York', now).toISOString()).toBe('2026-11-27T05:01:00.000Z')
    expect(parseAt('22:30:15', 'America/New_York', now).toISOString()).toBe('2026-11-28T03:30:15.000Z')
    expect(parseAt('00:01', 'UTC', now).toISOString()).toBe('2026-11-28T00:01:00.000Z')
  })

  it('resolves a wall time skipped by DST forward by the gap, and a repeated one to its first occurrence', () => {
    // New York springs forward 2027-03-14 02:00 → 03:00; falls back 2026-11-01 02:00 → 01:00.
    expect(parseAt('02:30', 'America/New_York', new Date('2027-03-14T05:00:00Z')).toISOString()).toBe('2027-03-14T07:30:00.000Z')
    expect(parseAt('01:30', 'America/New_York', new Date('2026-11-01T04:00:00Z')).toISOString()).toBe('2026-11-01T05:30:00.000Z')
  })

  it('accepts an ISO-8601 instant, read in the zone when it has no offset', () => {
    const now = new Date('2026-11-26T12:00:00Z')
    expect(parseAt('2026-11-27T00:01:00-05:00', 'UTC', now).toISOString()).toBe('2026-11-27T05:01:00.000Z')
    expect(parseAt('2026-11-27T00:01', 'Europe/Berlin', now).toISOString()).toBe('2026-11-26T23:01:00.000Z')
    expect(parseAt('2026-11-27T00:01:00Z', 'Asia/Tokyo', now).toISOString()).toBe('2026-11-27T00:01:00.000Z')
  })

  it('refuses bad times, past instants and unknown zones as usage errors (exit 2)', () => {
    const now = new Date('2026-11-26T12:00:00Z')
    expect(usage(() => parseAt('25:00', 'UTC', now)).message).toMatch(/invalid --at time "25:00"/)
    expect(usage(() => parseAt('noon', 'UTC', now)).message).toMatch(/invalid --at "noon"/)
    expect(usage(() => parseAt('2026-02-30T00:00', 'UTC', now)).message).toMatch(/no such date/)
    expect(usage(() => parseAt('2020-01-01T00:00Z', 'UTC', now)).message).toMatch(/in the past/)
    expect(usage(() => resolveSchedule({at: '00:01', tz: 'Mars/Olympus'})).message).toMatch(/unknown time zone "Mars\/Olympus"/)
  })
})

describe('--cron', () => {
  it('gives the next fire times in the zone', () => {
    const times = nextCronTimes('1 0 * * *', 'America/New_York', 3, new Date('2026-11-26T12:00:00Z'))
    expect(times.map((t) => t.toISOString())).toEqual([
      '2026-11-27T05:01:00.000Z',
      '2026-11-28T05:01:00.000Z',
      '2026-11-29T05:01:00.000Z',
    ])
  })

  it('refuses bad expressions as usage errors naming the problem', () => {
    expect(usage(() => nextCronTimes('61 0 * * *', 'UTC')).message).toMatch(/invalid cron expression "61 0 \* \* \*".*61/)
    expect(usage(() => nextCronTimes('every day', 'UTC')).message).toMatch(/expected 5 fields/)
    expect(usage(() => resolveSchedule({cron: '* * * * *', at: '00:01'})).message).toMatch(/either --at or --cron/)
  })
})

describe('--not-after and --prepare', () => {
  it('reads durations and instants', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('90')).toBe(90_000)
    usage(() => parseDuration('soon'))
    const now = new Date('2026-11-26T12:00:00Z')
    const schedule = resolveSchedule({at: '2026-11-27T00:01Z', notAfter: '5m', prepare: '30s', tz: 'UTC'}, now)
    expect(schedule.notAfter?.toISOString()).toBe('2026-11-27T00:06:00.000Z')
    expect(schedule.prepareMs).toBe(30_000)
    expect(usage(() => resolveSchedule({at: '2026-11-27T00:01Z', notAfter: '2026-11-26T23:00Z'}, now)).message).toMatch(/before the scheduled moment/)
  })

  it('a moment that passed less than --not-after ago is still the moment (a cron daemon starts flip at 00:01:00.3)', () => {
    const justAfter = new Date('2026-11-27T05:01:00.300Z') // 00:01:00.3 in New York
    const byCron = resolveSchedule({cron: '1 0 * * *', tz: 'America/New_York', notAfter: '5m'}, justAfter)
    expect(byCron.scheduledAt.toISOString()).toBe('2026-11-27T05:01:00.000Z')
    const byAt = resolveSchedule({at: '00:01', tz: 'America/New_York', notAfter: '5m'}, justAfter)
    expect(byAt.scheduledAt.toISOString()).toBe('2026-11-27T05:01:00.000Z')
    // Without the tolerance, or past it, the next occurrence is tomorrow's.
    expect(resolveSchedule({cron: '1 0 * * *', tz: 'America/New_York'}, justAfter).scheduledAt.toISOString()).toBe('2026-11-28T05:01:00.000Z')
    const tooLate = new Date('2026-11-27T05:07:00Z')
    expect(resolveSchedule({at: '00:01', tz: 'America/New_York', notAfter: '5m'}, tooLate).scheduledAt.toISOString()).toBe('2026-11-28T05:01:00.000Z')
  })

  it('refuses to fire when the moment has passed the deadline (a suspended laptop, a late CI job)', async () => {
    let clock = Date.parse('2026-11-27T00:00:00Z')
    const schedule = resolveSchedule({at: '2026-11-27T00:01Z', notAfter: '1m', prepare: '0s'}, new Date(clock))
    // The machine "wakes up" 10 minutes after the moment.
    const late = waitForMoment(schedule, {now: () => (clock += 600_000)})
    await expect(late).rejects.toBeInstanceOf(CutoverRefusedError)
    await expect(late).rejects.toThrow(/too late.*nothing was changed/)
  })
})

describe('the sleeper', () => {
  it('fires an --at a second ahead on the real clock, after running prepare first', async () => {
    const now = new Date()
    const target = new Date(Math.ceil((now.getTime() + 1500) / 1000) * 1000)
    const hhmmss = target.toISOString().slice(11, 19)
    const schedule = resolveSchedule({at: hhmmss, tz: 'UTC', prepare: '500ms'}, now)
    expect(schedule.scheduledAt.getTime()).toBe(target.getTime())
    const steps: string[] = []
    const countdown: number[] = []
    const firing = await waitForMoment(schedule, {
      prepare: async () => {
        steps.push('prepare')
      },
      onCountdown: (ms) => countdown.push(ms),
    })
    steps.push('fire')
    expect(steps).toEqual(['prepare', 'fire'])
    expect(countdown.length).toBeGreaterThan(0)
    expect(firing.scheduledAt.getTime()).toBe(target.getTime())
    expect(firing.driftMs).toBeGreaterThanOrEqual(0)
    // How late it fires here depends on how busy the machine is; the bound is checked below
    // on a clock whose timers are late by a known amount.
  })

  it('fires within 50 ms of the moment even when every timer wakes 60 ms late', async () => {
    let clock = Date.parse('2026-11-27T04:59:50Z')
    const moment = clock + 10_000
    const schedule = resolveSchedule({at: new Date(moment).toISOString(), tz: 'UTC', prepare: '500ms'}, new Date(clock))
    const preparedBefore: number[] = []
    const firing = await waitForMoment(schedule, {
      now: () => (clock += 1), // every reading of the clock costs a millisecond
      delay: async (ms) => {
        clock += ms + 60
      },
      prepare: async () => {
        preparedBefore.push(moment - clock)
      },
    })
    expect(preparedBefore).toHaveLength(1)
    expect(preparedBefore[0]).toBeGreaterThan(450)
    expect(preparedBefore[0]).toBeLessThanOrEqual(500)
    expect(firing.scheduledAt.getTime()).toBe(moment)
    expect(firing.driftMs).toBeGreaterThanOrEqual(0)
    expect(firing.driftMs).toBeLessThan(50)
  })

  it('is cancelled cleanly by an AbortSignal (SIGINT)', async () => {
    const controller = new AbortController()
    const sleeping = sleepUntil(Date.now() + 60_000, {signal: controller.signal})
    setTimeout(() => controller.abort(), 20)
    await expect(sleeping).rejects.toBeInstanceOf(CutoverCancelledError)
    await expect(sleeping).rejects.toThrow(/cancelled before the switch: nothing changed/)
  })

  it('sleeps past the 24.8-day Node timer limit in chunks, re-reading the clock', async () => {
    let clock = 0
    const target = 40 * 86_400_000
    const chunks: number[] = []
    // A fake timer that advances a fake clock: 40 days pass in chunks no timer would misfire on.
    const woke = await sleepUntil(target, {
      now: () => clock++,
      delay: async (ms) => {
        chunks.push(ms)
        clock += ms
      },
    })
    expect(woke).toBeGreaterThanOrEqual(target)
    expect(woke - target).toBeLessThan(100)
    expect(Math.max(...chunks)).toBeLessThan(2 ** 31 - 1)
    expect(chunks.length).toBeGreaterThan(40)
  })

  it('says what its countdown counts to: the start of pre-flight (--prepare before), then the cutover', async () => {
    const start = Date.parse('2026-12-03T15:00:00Z')
    let clock = start
    const schedule = resolveSchedule({at: '2026-12-03T15:10:00Z', prepare: '5m'}, new Date(start))
    const seen: Array<[number, string]> = []
    await waitForMoment(schedule, {
      now: () => clock++,
      delay: async (ms) => {
        clock += ms
      },
      countdownEveryMs: 60_000,
      onCountdown: (ms, target) => seen.push([ms, target]),
      prepare: async () => {
        seen.push([0, 'prepare'])
      },
    })
    expect(seen[0][1]).toBe('preflight')
    expect(Math.abs(seen[0][0] - 300_000)).toBeLessThan(100)
    const prepared = seen.findIndex(([, what]) => what === 'prepare')
    expect(seen.slice(0, prepared).every(([, what]) => what === 'preflight')).toBe(true)
    expect(seen[prepared + 1][1]).toBe('cutover')
    expect(Math.abs(seen[prepared + 1][0] - 300_000)).toBeLessThan(100)
    expect(seen.slice(prepared + 1).every(([, what]) => what === 'cutover')).toBe(true)
  })
})

describe('printing an instant in the zone given', () => {
  it('shows the wall clock of --tz with its offset, winter and summer', () => {
    const winter = resolveSchedule({at: '17:07:47', tz: 'Europe/Berlin'}, new Date('2026-12-02T12:00:00Z')).scheduledAt
    expect(formatInZone(winter, 'Europe/Berlin')).toBe('2026-12-02 17:07:47 +01:00 (Europe/Berlin)')
    expect(isoInZone(winter, 'Europe/Berlin')).toBe('2026-12-02T17:07:47.000+01:00')
    expect(Date.parse(isoInZone(winter, 'Europe/Berlin'))).toBe(winter.getTime())
    const summer = new Date('2026-07-01T15:07:47.250Z')
    expect(isoInZone(summer, 'Europe/Berlin')).toBe('2026-07-01T17:07:47.250+02:00')
    expect(isoInZone(summer, 'America/New_York')).toBe('2026-07-01T11:07:47.250-04:00')
    expect(formatInZone(summer, 'Asia/Kolkata')).toBe('2026-07-01 20:37:47 +05:30 (Asia/Kolkata)')
    expect(isoInZone(summer, 'UTC')).toBe('2026-07-01T15:07:47.250+00:00')
  })
})
