// Shared by the cutover tests: real servers (Debian redis-server standalone, the bundled engine
// as a 3-node cluster), a catalog of prices written to live and a new one staged to the shadow
// with the real `stage`, and fingerprints of what each db holds.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {DatasetRecord} from '../../src/dataset/record.js'
import {stage} from '../../src/ops/index.js'
import {connectPlane} from '../../src/plane/plane.js'
import {addSummaries, summary} from '../../src/cutover/state.js'
import {scanDb} from '../../src/ops/db-checksum.js'
import type {DbSummary} from '../../src/cutover/plan.js'
import {hasRedisServer, startRedisServer} from '../support/redis-server.js'
import {tempDir as testTempDir} from '../support/temp.js'

export const DBS = {live: 0, shadow: 1, archive: 2}

export interface Server {
  name: string
  topology: 'cluster' | 'standalone'
  url: string
  stop(): Promise<void>
}

export const servers: Array<{name: string; topology: 'cluster' | 'standalone'; skip?: string; start(): Promise<Server>}> = [
  {
    name: 'redis-server (standalone)',
    topology: 'standalone',
    skip: hasRedisServer() ? undefined : 'redis-server is not installed',
    async start() {
      const server = await startRedisServer()
      return {name: this.name, topology: 'standalone', url: server.url, stop: () => server.stop()}
    },
  },
  {
    name: 'bundled engine (cluster of 3)',
    topology: 'cluster',
    async start() {
      const {startEngine} = await import('../../src/engine/index.js')
      const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 16})
      return {name: this.name, topology: 'cluster', url: engine.seedUrl, stop: () => engine.stop()}
    },
  },
]

/** A state dir, removed after the test file (test/support/temp.ts). */
export function tempDir(prefix = 'flip-cutover-'): string {
  return testTempDir(prefix)
}

/** `count` prices `price:<i>` (hash-tagged every 7th so some slots hold several keys), as NDJSON lines. */
export function prices(count: number, value: (i: number) => string, from = 0): string[] {
  const lines: string[] = []
  for (let i = from; i < from + count; i++) lines.push(JSON.stringify({key: keyOf(i), value: value(i)}))
  return lines
}

export function keyOf(i: number): string {
  return i % 7 === 0 ? `price:{cat${i % 3}}:${i}` : `price:${i}`
}

/** Writes `lines` to a file and stages it into the shadow db; returns the manifest id. */
export async function stageLines(url: string, stateDir: string, lines: string[], shadowDb = DBS.shadow, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(stateDir, `staged-${Date.now()}-${Math.random().toString(16).slice(2)}.ndjson`)
  writeFileSync(file, lines.length > 0 ? lines.join('\n') + '\n' : '')
  const result = await stage({files: [file], shadowDb, stateDir, target: {url}, replace: true, ...extra} as Parameters<typeof stage>[0])
  return result.id
}

/** Writes string keys to a db directly (the "old" live data an app put there). */
export async function writeStrings(url: string, db: number, entries: Array<[string, string]>, ttlFor?: (key: string) => number | undefined): Promise<void> {
  const plane = await connectPlane({url, db})
  try {
    const records: DatasetRecord[] = entries.map(([key, value]) => ({
      key: Buffer.from(key),
      value: {type: 'string', value: Buffer.from(value)},
      ttl: ttlFor?.(key),
      origin: {file: 'test', line: 0},
    }))
    for (let i = 0; i < records.length; i += 5000) await plane.writeRecords(records.slice(i, i + 5000))
  } finally {
    await plane.close()
  }
}

export async function flushAll(url: string, dbs: number[] = [0, 1, 2, 15]): Promise<void> {
  for (const db of dbs) {
    const plane = await connectPlane({url, db})
    await plane.flushdb()
    await plane.close()
  }
}

export async function fingerprint(url: string, db: number): Promise<DbSummary> {
  const plane = await connectPlane({url, db})
  try {
    return summary((await scanDb(plane)).checksum)
  } finally {
    await plane.close()
  }
}

export async function fingerprints(url: string): Promise<{live: DbSummary; shadow: DbSummary; archive: DbSummary; all: DbSummary}> {
  const [live, shadow, archive] = await Promise.all([fingerprint(url, DBS.live), fingerprint(url, DBS.shadow), fingerprint(url, DBS.archive)])
  return {live, shadow, archive, all: addSummaries(live, shadow, archive)}
}

export async function getString(url: string, db: number, key: string): Promise<string | null> {
  const plane = await connectPlane({url, db})
  try {
    const [stored] = await plane.readValues([Buffer.from(key)])
    return stored.value?.type === 'string' ? stored.value.value.toString() : null
  } finally {
    await plane.close()
  }
}
