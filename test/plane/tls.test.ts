// valkeys:// against a real redis-server speaking TLS, with a private CA the plane is told to trust.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectionError, connectPlane} from '../../src/plane/index.js'
import {dedicatedClient} from '../support/dedicated-client.js'
import {startRedisServer, type RedisServer} from '../support/redis-server.js'
import {comparable, expectedStored, sampleRecords} from './support/records.js'

let dir: string
let server: RedisServer
let tlsPort: number

/** A CA and a server certificate for 127.0.0.1 signed by it (openssl). */
function makeCertificates(into: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, {cwd: into, stdio: 'ignore'})
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=flip test CA', '-keyout', 'ca.key', '-out', 'ca.crt')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr')
  writeFileSync(join(into, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt')
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flip-tls-'))
  makeCertificates(dir)
  const started = await startRedisServer(
    ([port]) => [
      '--tls-port', String(port), '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'),
      '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no',
    ],
    1,
  )
  server = started
  tlsPort = started.ports[0]
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('valkeys:// (TLS)', () => {
  it('writes and reads over TLS when the CA is trusted (FLIP_TLS_CA)', async () => {
    const plane = await connectPlane({url: `valkeys://127.0.0.1:${tlsPort}`, db: 2, env: {FLIP_TLS_CA: join(dir, 'ca.crt')}})
    try {
      await plane.writeRecords(sampleRecords())
      expect((await plane.readValues(sampleRecords().map((r) => r.key))).map(comparable)).toEqual(sampleRecords().map(expectedStored))
      const client = await dedicatedClient(plane, plane.primaries[0])
      expect(await client.get('price:1')).toBe('19.99')
      await client.quit()
      await plane.flushdb()
    } finally {
      await plane.close()
    }
  })

  it('refuses a server certificate it cannot verify', async () => {
    const error = await connectPlane({url: `rediss://127.0.0.1:${tlsPort}`, db: 2, env: {}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toMatch(new RegExp(`^cannot connect to 127\\.0\\.0\\.1:${tlsPort}: .*certificate`))
  })

  it('names a CA file it cannot read', async () => {
    await expect(connectPlane({url: `valkeys://127.0.0.1:${tlsPort}`, db: 2, env: {FLIP_TLS_CA: join(dir, 'nope.crt')}})).rejects.toThrow(
      `cannot read the CA file ${join(dir, 'nope.crt')} (FLIP_TLS_CA): ENOENT`,
    )
  })
})
