// The servers the ops tests run against, each a real server:
// - Debian's redis-server, standalone (always);
// - the bundled engine in cluster mode, 3 nodes (once src/engine/index.ts exports startEngine);
// - an external Valkey 9 cluster when FLIP_TEST_VALKEY_URL is set: it needs cluster-databases 14
//   or more, and its dbs 11-13 get flushed!
import {existsSync} from 'node:fs'
import {hasRedisServer, startRedisServer} from '../support/redis-server.js'

export interface Backend {
  url: string
  stop(): Promise<void>
}

export interface BackendKind {
  name: string
  /** What the plane must discover there (undefined: whatever it is). */
  mode?: {mode: 'cluster' | 'standalone'; primaries: number}
  /** What the manifest's target.server must say. */
  server?: RegExp
  /** Why it is skipped, or undefined when it runs. */
  skip?: string
  start(): Promise<Backend>
}

const engineModule = new URL('../../src/engine/index.ts', import.meta.url).pathname

export const backends: BackendKind[] = [
  {
    name: 'redis-server standalone',
    mode: {mode: 'standalone', primaries: 1},
    server: /^redis \d+\.\d+\.\d+$/,
    skip: hasRedisServer() ? undefined : 'redis-server is not installed',
    start: () => startRedisServer(),
  },
  {
    name: 'bundled engine, cluster of 3',
    mode: {mode: 'cluster', primaries: 3},
    server: /^valkey 9\.\d+\.\d+ \(flip bundled engine\)$/,
    skip: existsSync(engineModule) ? undefined : 'the bundled engine (src/engine/index.ts) is not there yet',
    async start() {
      const {startEngine} = (await import(engineModule)) as typeof import('../../src/engine/index.js')
      const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 16})
      return {url: engine.seedUrl, stop: () => engine.stop()}
    },
  },
  {
    name: 'external Valkey (FLIP_TEST_VALKEY_URL)',
    skip: process.env.FLIP_TEST_VALKEY_URL ? undefined : 'FLIP_TEST_VALKEY_URL is not set',
    start: async () => ({url: process.env.FLIP_TEST_VALKEY_URL!, stop: async () => {}}),
  },
]

for (const kind of backends) {
  if (kind.skip) console.warn(`[flip tests] skipping ops tests on ${kind.name}: ${kind.skip}`)
}

/** The dbs the ops tests use: high numbers, so a shared test cluster's low dbs are left alone. */
export const DB = {live: 11, shadow: 12, other: 13} as const
