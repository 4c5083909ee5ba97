// The main job, end to end, on the bundled engine: the story a new user runs first.
// Every step is the real CLI in a child process (what a user would type), in a throwaway
// state directory, against an engine on a free port that is stopped at the end.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {readEngineRecord} from '../cli/engine-record.js'
import {connectPlane} from '../plane/index.js'
import {throwIfAborted} from '../util/interrupt.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const runJs = join(root, 'bin', 'run.js')
const catalog = (name: string) => relative(process.cwd(), join(root, 'templates', 'catalog', name)) || name

export interface DemoOptions {
  /** Where to print the narration and each command (stderr keeps stdout for results). */
  write: (line: string) => void
  keep?: boolean
  /** Seconds between the scheduled cutover's start and its moment. */
  leadSeconds?: number
  /** Ctrl-C / SIGTERM: stop the step that runs, then stop the engine and remove the state dir as at the end. */
  signal?: AbortSignal
}

const SHOWN = ['SKU-000001', 'SKU-000002', 'SKU-000004', 'SKU-100001']

export async function runDemo(options: DemoOptions): Promise<void> {
  const {write} = options
  const stateDir = mkdtempSync(join(tmpdir(), 'flip-demo-'))
  const env = {...process.env, FLIP_STATE_DIR: stateDir, FLIP_URL: '', VALKEY_URL: ''}
  const flip = (args: string[]) => {
    throwIfAborted(options.signal)
    return runFlip(args, env, write, options.signal)
  }
  const csv = ['--key', 'product:{sku}:price', '--value', 'price']
  let engineStarted = false
  try {
    write(`# flip demo — state in ${stateDir}`)
    write('# 1. A 3-node cluster-mode engine with 16 databases, in the background.')
    // Ports the OS picks (--port 0): a range chosen here could be taken before the engine binds it.
    await flip(['engine', 'start', '--port', '0', '--dir', join(stateDir, 'engine')])
    engineStarted = true
    const url = readEngineRecord(stateDir)?.seedUrl
    if (!url) throw new Error(`flip engine start recorded no engine in ${stateDir}`)

    write('# 2. Today\'s 100,000 regular prices go live (stage into the shadow db, then switch).')
    await flip(['stage', catalog('prices.csv'), ...csv])
    await flip(['cutover', '--yes'])
    await showPrices(url, 'live prices before the sale', write)

    write('# 3. In the evening: stage tomorrow\'s Black Friday prices, prove them, see what changes.')
    await flip(['stage', catalog('black-friday-prices.csv'), ...csv])
    await flip(['verify'])
    await flip(['diff'])

    const lead = options.leadSeconds ?? 5
    const at = new Date(Date.now() + lead * 1000)
    const hhmmss = at.toTimeString().slice(0, 8)
    write(`# 4. Midnight, compressed: the cutover fires at ${hhmmss} local time, ${lead} s from now.`)
    // --not-after: on a busy machine the command may start after the moment; it then fires at
    // once instead of waiting for the same time tomorrow.
    await flip(['cutover', '--at', hhmmss, '--prepare', `${lead}s`, '--not-after', '1m', '--atomic', '--yes'])
    await showPrices(url, 'live prices after the cutover', write)

    write('# 5. Something is wrong with the sale prices: roll back from the plan on disk.')
    await flip(['rollback', '--yes'])
    await showPrices(url, 'live prices after the rollback', write)
    await flip(['status'])
  } catch (error) {
    // A step that failed because the user stopped the demo is the interruption, not the step's exit code.
    throwIfAborted(options.signal)
    throw error
  } finally {
    if (engineStarted) await runFlip(['engine', 'stop'], env, write).catch(() => {})
    if (!options.keep) rmSync(stateDir, {recursive: true, force: true})
  }
  write('# Done. Try it on your own data: flip engine start, flip stage FILE, flip verify, flip cutover.')
}

async function showPrices(url: string, title: string, write: (line: string) => void): Promise<void> {
  const plane = await connectPlane({url, db: 0})
  try {
    const keys = SHOWN.map((sku) => Buffer.from(`product:${sku}:price`))
    const values = await plane.readValues(keys)
    const cells = values.map((v, i) => `${SHOWN[i]} ${v.value?.type === 'string' ? v.value.value.toString() : '(none)'}`)
    write(`  ${title}: ${cells.join(' · ')}`)
  } finally {
    await plane.close()
  }
}

function runFlip(args: string[], env: NodeJS.ProcessEnv, write: (line: string) => void, signal?: AbortSignal): Promise<void> {
  write(`$ flip ${args.map(quote).join(' ')}`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args], {env, stdio: ['ignore', 'inherit', 'inherit']})
    // A terminal's Ctrl-C reaches the child too; a SIGTERM sent to the demo alone is passed on.
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
    }
    signal?.addEventListener('abort', stop, {once: true})
    child.on('error', reject)
    child.on('exit', (code) => {
      signal?.removeEventListener('abort', stop)
      if (code === 0) resolve()
      else reject(new Error(`flip ${args[0]} exited with ${code}`))
    })
  })
}

function quote(arg: string): string {
  return /^[\w./:=@,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}
