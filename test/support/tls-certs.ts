// Certificates for TLS tests, made with openssl in a temp dir: a CA, another CA nobody trusts,
// server certificates for 127.0.0.1 (valid, expired, for another host) and a client certificate,
// all signed by the CA. EC keys: quick to make on a loaded machine.
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface TestCertificates {
  dir: string
  ca: string
  otherCa: string
  server: {cert: string; key: string}
  expired: {cert: string; key: string}
  wrongHost: {cert: string; key: string}
  client: {cert: string; key: string}
  /** A client certificate signed by the other CA (the server does not trust it). */
  strangerClient: {cert: string; key: string}
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export function makeCertificates(dir: string): TestCertificates {
  const openssl = (...args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const selfSigned = (name: string, cn: string) => openssl('req', '-x509', ...newKey, '-days', '2', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.crt`)
  selfSigned('ca', 'flip test CA')
  selfSigned('other-ca', 'flip untrusted CA')
  // `openssl ca` signs with any validity window (x509 -days cannot go back in time): the expired certificate.
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'serial'), '1000\n')
  writeFileSync(
    join(dir, 'ca.cnf'),
    ['[ca]', 'default_ca = test', '[test]', 'dir = .', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256',
      'policy = any', 'unique_subject = no', 'copy_extensions = copy', '[any]', 'commonName = supplied', ''].join('\n'),
  )
  const sign = (name: string, san: string | undefined, issuer: string, dates: {start: string; end: string}) => {
    openssl('req', ...newKey, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    if (san) writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`)
    openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`, '-in', `${name}.csr`, '-out', `${name}.crt`,
      '-notext', '-startdate', dates.start, '-enddate', dates.end, ...(san ? ['-extfile', `${name}.ext`] : []))
    return {cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`)}
  }
  const stamp = (date: Date) => date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'
  const day = 86_400_000
  const valid = {start: stamp(new Date(Date.now() - day)), end: stamp(new Date(Date.now() + 2 * day))}
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    server: sign('server', 'IP:127.0.0.1', 'ca', valid),
    expired: sign('expired', 'IP:127.0.0.1', 'ca', {start: stamp(new Date(Date.now() - 10 * day)), end: stamp(new Date(Date.now() - 5 * day))}),
    wrongHost: sign('wrong-host', 'DNS:cache.flip.invalid', 'ca', valid),
    client: sign('client', undefined, 'ca', valid),
    strangerClient: sign('stranger', undefined, 'other-ca', valid),
  }
}
