// Starts a real Debian redis-server (standalone) on a free loopback port for a test file.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, createConnection} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface RedisServer {
  port: number
  url: string
  stop(): Promise<void>
}

/**
 * A port the OS just handed out and took back. Another process may take it before the caller
 * binds it: start servers with spawnServer, which tries again on a new port when that happens.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/**
 * A loopback port nothing listens on, for "server unreachable" cases: a privileged port (only
 * root can bind one, and the OS never hands one out for listen(0) or a client socket), so
 * nobody else starts listening there during the test, as could happen with a freed ephemeral one.
 */
export async function closedPort(): Promise<number> {
  for (const port of [1, 3, 4, 6, 8, 10, 12, 14, 16, 18]) {
    if (!(await answers(port))) return port
  }
  throw new Error('no closed loopback port found below 20')
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

export interface SpawnedServer {
  child: ChildProcess
  /** The ports passed to args, in order. */
  ports: number[]
  /** Resolves when the child has exited. */
  exited: Promise<void>
}

/**
 * Starts a redis-server or valkey-server on `portCount` fresh ports (args(ports) gives its
 * arguments), and waits until it logs that it accepts connections: then it, not some other
 * process that took one of the ports meanwhile, listens there. A server that could not bind
 * exits at once; then it is started again on new ports.
 */
export async function spawnServer(binary: string, portCount: number, args: (ports: number[]) => string[], timeoutMs = 60_000): Promise<SpawnedServer> {
  let lastLog = ''
  for (let attempt = 0; attempt < 5; attempt++) {
    const ports: number[] = []
    while (ports.length < portCount) {
      const port = await freePort()
      if (!ports.includes(port)) ports.push(port)
    }
    // No --logfile: the log goes to stdout, where readiness (or the bind failure) shows.
    const child = spawn(binary, [...args(ports), '--logfile', ''], {stdio: ['ignore', 'pipe', 'pipe']})
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    let log = ''
    const collect = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8192)
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    const ready = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${binary} did not get ready within ${timeoutMs} ms:\n${log}`))
      }, timeoutMs)
      const check = () => {
        if (!/Ready to accept connections/.test(log)) return
        clearTimeout(timer)
        child.stdout!.off('data', check)
        resolve(true)
      }
      child.stdout!.on('data', check)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
    if (ready) return {child, ports, exited}
    lastLog = log
    if (!/in use|Could not create server TCP listening socket|Could not bind/i.test(log)) break
  }
  throw new Error(`${binary} did not start:\n${lastLog}`)
}

/** extraArgs, or a function of the ports after the server's own (e.g. a --tls-port). */
export async function startRedisServer(extraArgs: string[] | ((ports: number[]) => string[]) = [], extraPorts = 0): Promise<RedisServer & {ports: number[]}> {
  const dir = mkdtempSync(join(tmpdir(), 'flip-redis-'))
  const server = await spawnServer('redis-server', 1 + extraPorts, ([port, ...more]) => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', '16',
    ...(typeof extraArgs === 'function' ? extraArgs(more) : extraArgs),
  ]).catch((error: unknown) => {
    rmSync(dir, {recursive: true, force: true})
    throw error
  })
  const [port] = server.ports
  return {
    port,
    ports: server.ports.slice(1),
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGTERM')
        await server.exited
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({port, host: '127.0.0.1'})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
