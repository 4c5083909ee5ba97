// Helpers for the engine e2e tests: run the built CLI (dist/, via bin/run.js) as a child
// process, and talk to the engine with Debian's redis-cli, a client nobody here wrote.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `flip ARGS` from the built CLI; never throws on a non-zero exit. */
export function flip(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/run.js'), ...args], {
      cwd: root,
      // NODE_ENV=production: oclif runs dist/ (under vitest NODE_ENV=test would make it load src/ via tsx).
      env: {...process.env, NODE_ENV: 'production', FLIP_ENGINE_PASSWORD: '', NO_COLOR: '1', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
  })
}

/** A temp directory used as both --state-dir and the parent of --dir; stops any engine left in it. */
export class EngineSandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'flip-engine-e2e-'))
  readonly dir = join(this.root, 'engine')

  args(extra: string[] = []): string[] {
    return ['--dir', this.dir, '--state-dir', this.root, ...extra]
  }

  start(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    const port = extra.includes('--port') ? [] : ['--port', '0']
    return flip(['engine', 'start', ...this.args([...port, ...extra])], env)
  }

  stop(env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    return flip(['engine', 'stop', ...this.args()], env)
  }

  status(env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    return flip(['engine', 'status', '--json', ...this.args()], env)
  }

  state(): {pid: number; seedUrl: string; nodes: Array<{port: number; pid: number; slots: Array<[number, number]>}>} {
    return JSON.parse(readFileSync(join(this.dir, 'engine.state.json'), 'utf8'))
  }

  /** Port of the node owning the key's slot would need CLUSTER routing: redis-cli -c follows MOVED. */
  firstPort(): number {
    return this.state().nodes[0].port
  }

  async cleanup(): Promise<void> {
    await this.stop()
    rmSync(this.root, {recursive: true, force: true})
  }
}

/** `redis-cli -c -p PORT -n DB ARGS…` → its stdout, trimmed (errors are printed there too). */
export function redisCli(port: number, db: number, args: string[], password?: string): string {
  const auth = password === undefined ? [] : ['--no-auth-warning', '-a', password]
  const run = spawnSync('redis-cli', ['-c', '-p', String(port), '-n', String(db), ...auth, ...args], {encoding: 'utf8'})
  return (run.stdout + run.stderr).trim()
}

/** True when the engine was built with the persistence/limit hooks wired (INFO shows them). */
export function hooksWired(port: number, password?: string): boolean {
  return redisCli(port, 0, ['info', 'persistence'], password).includes('flip_save_seconds')
}
