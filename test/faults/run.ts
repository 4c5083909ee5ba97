// npm run test:faults [-- fuzz|soak|crash [options]]: the bounded fault runs of issue 13, not part
// of `npm test` (each takes minutes). With no name, runs the fuzzer (1M frames) then the crash-restart
// run; the soak (10 minutes by default) runs only when named.
//   fuzz  [--frames N] [--seed S] [--connections C] [--nodes N]
//   soak  [--minutes M] [--nodes N] [--clients C]
//   crash [--runs N] [--save-seconds S]
import {fuzzMain} from './fuzz.js'

const [name, ...rest] = process.argv.slice(2)
const runs: Record<string, (args: string[]) => Promise<number>> = {
  fuzz: fuzzMain,
  soak: async (args) => (await import('./soak.js')).soakMain(args),
  crash: async (args) => (await import('./crash-restart.js')).crashMain(args),
}

let status = 0
if (name && !runs[name]) {
  console.error(`unknown fault run '${name}': use one of ${Object.keys(runs).join(', ')}`)
  status = 2
} else {
  for (const run of name ? [name] : ['fuzz', 'crash']) {
    console.log(`== ${run}`)
    status = Math.max(status, await runs[run](name ? rest : []))
  }
}
process.exit(status)
