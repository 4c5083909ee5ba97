// Time zones, --at / --cron parsing and waiting for the moment: used by cutover and init.
//   parse.ts  --at / --cron / --tz / --not-after / --prepare → Schedule; durations; cron times
//   zone.ts   wall clocks in IANA zones; printing an instant in the user's zone
//   wait.ts   sleeping until the moment (and pre-flight before it)
export {nextCronTimes, parseAt, parseDuration, resolveSchedule, type Schedule, type ScheduleOptions} from './parse.js'
export {formatInZone, isoInZone, localTimeZone, validateTimeZone, wallClockIn} from './zone.js'
export {sleepUntil, waitForMoment, type CountdownTarget, type Firing} from './wait.js'
