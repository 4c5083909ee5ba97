// A cutover, resume or rollback in a child process, so a test can SIGKILL it at a precise point
// (FLIP_TEST_CRASH_AT, see src/cutover/crash-hook.ts) or run two at once. Prints the result
// as one JSON line on stdout (the last one); an error as {"error": message, "exitCode": n}.
//
//   node --import tsx test/cutover/crash-runner.ts '{"action":"cutover","url":…,"stateDir":…}'
import {cutover, type CutoverOptions} from '../../src/cutover/cutover.js'
import {rollback, type RollbackOptions} from '../../src/cutover/rollback.js'

type Request = ({action: 'cutover' | 'resume'} & CutoverOptions) | ({action: 'rollback'} & RollbackOptions)

const request = JSON.parse(process.argv[2]) as Request
// FLIP_TEST_WAIT_FOR_GO: say "ready" once loaded, then take the rest of the request (e.g. the
// schedule) from stdin, so that a test can start two runs at a moment they both can make.
if (process.env.FLIP_TEST_WAIT_FOR_GO) {
  process.stdout.write('ready\n')
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  Object.assign(request, JSON.parse(text))
}
try {
  const result = request.action === 'rollback' ? await rollback(request) : await cutover(request)
  process.stdout.write(JSON.stringify(result) + '\n')
} catch (error) {
  process.stdout.write(JSON.stringify({error: (error as Error).message, exitCode: (error as {exitCode?: number}).exitCode ?? 1}) + '\n')
  process.exitCode = 1
}
