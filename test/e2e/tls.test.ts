// Issue 13, TLS: the built CLI over rediss:// against Debian's redis-server speaking only TLS
// (--port 0), with certificates the test makes with openssl. Server verification is on by
// default, FLIP_TLS_CA trusts a private CA, FLIP_TLS_CERT / FLIP_TLS_KEY (or flip.config.json
// tlsCa / tlsCert / tlsKey) present a client certificate for mutual TLS, and every failure is one
// line naming what is wrong, with exit 3 (the server side) or 2 (a file given to flip).
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {flip, type Run} from '../support/cli-run.js'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {hasOpenssl, makeCertificates, type TestCertificates} from '../support/tls-certs.js'

const skip = !hasRedisServer() || !hasOpenssl()
if (skip) console.warn('test/e2e/tls.test.ts skipped: needs redis-server (built with TLS) and openssl')

type Servers = Record<'open' | 'mutual' | 'expired' | 'wrongHost', RedisServer & {ports: number[]}>

/** One line on stderr (a trailing newline aside) and no stack trace. */
function expectOneLine(run: Run, code: number, pattern: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(code)
  const lines = run.stderr.trim().split('\n')
  expect(lines.at(-1)).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at |PRIVATE KEY|BEGIN/)
}

describe.skipIf(skip)('flip over TLS (rediss://, redis-server --tls-port)', () => {
  let dir: string
  let certs: TestCertificates
  let servers: Servers

  const tlsServer = (cert: {cert: string; key: string}, authClients: 'yes' | 'no') =>
    startRedisServer(
      ([tlsPort]) => ['--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', cert.cert, '--tls-key-file', cert.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', authClients],
      1,
    )
  const url = (name: keyof Servers) => `rediss://127.0.0.1:${servers[name].ports[0]}`
  const trusted = () => ({FLIP_TLS_CA: certs.ca})
  const withClient = () => ({FLIP_TLS_CA: certs.ca, FLIP_TLS_CERT: certs.client.cert, FLIP_TLS_KEY: certs.client.key})

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flip-tls-e2e-'))
    certs = makeCertificates(mkdtempSync(join(dir, 'certs-')))
    const [open, mutual, expired, wrongHost] = await Promise.all([
      tlsServer(certs.server, 'no'),
      tlsServer(certs.server, 'yes'),
      tlsServer(certs.expired, 'no'),
      tlsServer(certs.wrongHost, 'no'),
    ])
    servers = {open, mutual, expired, wrongHost}
    writeFileSync(join(dir, 'prices.ndjson'), Array.from({length: 500}, (_, i) => JSON.stringify({key: `price:${i}`, value: String(i)})).join('\n') + '\n')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(Object.values(servers ?? {}).map((server) => server.stop()))
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('stage, verify and status over rediss:// with the private CA in FLIP_TLS_CA', async () => {
    const staged = await flip(dir, ['stage', 'prices.ndjson', '--url', url('open'), '--json'], trusted())
    expect(staged.code, staged.stderr).toBe(0)
    expect(JSON.parse(staged.stdout)).toMatchObject({keys: 500, db: 1})
    const verified = await flip(dir, ['verify', '--url', url('open'), '--json'], trusted())
    expect(verified.code, verified.stderr).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ok: true, keys: 500})
    const status = await flip(dir, ['status', '--url', url('open'), '--json'], trusted())
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout).dbs).toEqual(expect.arrayContaining([expect.objectContaining({db: 1, keys: 500, matchesManifest: true})]))
  })

  it('mutual TLS: a client certificate from FLIP_TLS_CERT / FLIP_TLS_KEY, or from flip.config.json', async () => {
    const status = await flip(dir, ['status', '--url', url('mutual'), '--json'], withClient())
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.stringify(JSON.parse(status.stdout).target)).toContain(`127.0.0.1:${servers.mutual.ports[0]}`)

    const project = mkdtempSync(join(dir, 'config-'))
    writeFileSync(join(project, 'flip.config.json'), JSON.stringify({url: url('mutual'), tlsCa: certs.ca, tlsCert: certs.client.cert, tlsKey: certs.client.key}))
    const fromConfig = await flip(project, ['status', '--json'])
    expect(fromConfig.code, fromConfig.stderr).toBe(0)
  })

  it('no client certificate where the server requires one: one line, exit 3', async () => {
    expectOneLine(await flip(dir, ['status', '--url', url('mutual')], trusted()), 3, /^Error: cannot connect to 127\.0\.0\.1:\d+: the server requires a client certificate \(mutual TLS\): set FLIP_TLS_CERT and FLIP_TLS_KEY$/)
    const stranger = {...trusted(), FLIP_TLS_CERT: certs.strangerClient.cert, FLIP_TLS_KEY: certs.strangerClient.key}
    expectOneLine(await flip(dir, ['status', '--url', url('mutual')], stranger), 3, /the server refused the client certificate in FLIP_TLS_CERT \(unknown ca\)/)
  })

  it('a server certificate from a CA that is not trusted: one line, exit 3', async () => {
    expectOneLine(await flip(dir, ['status', '--url', url('open')], {FLIP_TLS_CA: certs.otherCa}), 3, /cannot connect to 127\.0\.0\.1:\d+: the server certificate is not signed by the CA in FLIP_TLS_CA \(SELF_SIGNED_CERT_IN_CHAIN\)/)
    // Verification is on without FLIP_TLS_CA too: the system CAs do not know the test CA.
    expectOneLine(await flip(dir, ['status', '--url', url('open')]), 3, /the server certificate is not signed by a trusted CA \(\w+\): set FLIP_TLS_CA/)
  })

  it('an expired server certificate, and one for another host: one line each, exit 3', async () => {
    expectOneLine(await flip(dir, ['status', '--url', url('expired')], trusted()), 3, /cannot connect to 127\.0\.0\.1:\d+: the server certificate has expired \(CERT_HAS_EXPIRED\)/)
    expectOneLine(await flip(dir, ['status', '--url', url('wrongHost')], trusted()), 3, /the server certificate is for DNS:cache\.flip\.invalid, not 127\.0\.0\.1 \(ERR_TLS_CERT_ALTNAME_INVALID\)/)
  })

  it('an unreadable or unusable certificate or key file: exit 2 naming the file, never its contents', async () => {
    const missing = join(dir, 'missing.key')
    expectOneLine(await flip(dir, ['status', '--url', url('mutual')], {...withClient(), FLIP_TLS_KEY: missing}), 2, new RegExp(`cannot read the client key ${missing} \\(FLIP_TLS_KEY\\): ENOENT$`))
    expectOneLine(
      await flip(dir, ['status', '--url', url('mutual')], {...withClient(), FLIP_TLS_KEY: certs.strangerClient.key}),
      2,
      new RegExp(`the client key ${certs.strangerClient.key} \\(FLIP_TLS_KEY\\) does not belong to the certificate ${certs.client.cert} \\(FLIP_TLS_CERT\\)$`),
    )
    // A key given as the certificate: the message names the file, and no byte of the key shows.
    const keyBody = readFileSync(certs.client.key, 'utf8').split('\n')[1]
    const swapped = await flip(dir, ['status', '--url', url('mutual'), '--json'], {...withClient(), FLIP_TLS_CERT: certs.client.key})
    expect(swapped.code).toBe(2)
    expect(JSON.parse(swapped.stdout).error.message).toBe(`the client certificate ${certs.client.key} (FLIP_TLS_CERT) is not a PEM certificate`)
    expect(swapped.stdout + swapped.stderr).not.toContain(keyBody)
    expectOneLine(await flip(dir, ['status', '--url', url('mutual')], {...trusted(), FLIP_TLS_CERT: certs.client.cert}), 2, /a client certificate is set \(FLIP_TLS_CERT\) but no key: set FLIP_TLS_KEY too$/)
  })
})
