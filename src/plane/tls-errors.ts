// One line for a TLS failure, saying what is wrong and what to change: the server certificate
// (untrusted CA, expired, wrong host) or the client certificate (missing, refused). Node names
// these failures by code; OpenSSL's own text ("error:0A000086:…") helps nobody at 3 a.m.
// Never includes certificate or key material: only codes, host names and file variables.

/** Node's codes for a server certificate that does not chain to a trusted CA. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
])

export interface TlsContext {
  /** Whether a private CA was given (FLIP_TLS_CA), for the remedy. */
  hasCa: boolean
  /** Whether a client certificate was given (FLIP_TLS_CERT). */
  hasCert: boolean
}

/** The reason for a TLS failure, or undefined when `error` is not one (a plain socket error). */
type TlsError = NodeJS.ErrnoException & {host?: string; cert?: {subjectaltname?: string; subject?: {CN?: string}}}

export function describeTlsError(error: TlsError, context: TlsContext): string | undefined {
  const code = error.code ?? ''
  if (UNTRUSTED.has(code)) {
    return context.hasCa
      ? `the server certificate is not signed by the CA in FLIP_TLS_CA (${code}): point FLIP_TLS_CA at the CA that signed it`
      : `the server certificate is not signed by a trusted CA (${code}): set FLIP_TLS_CA to the file of the CA that signed it`
  }
  if (code === 'CERT_HAS_EXPIRED') return 'the server certificate has expired (CERT_HAS_EXPIRED): renew it on the server'
  if (code === 'CERT_NOT_YET_VALID') return 'the server certificate is not valid yet (CERT_NOT_YET_VALID): check the server’s and this machine’s clocks'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = error.cert?.subjectaltname || (error.cert?.subject?.CN ? `CN=${error.cert.subject.CN}` : 'other names')
    return `the server certificate is for ${names}, not ${error.host ?? 'this host'} (${code}): connect by a name or address it lists`
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || (!context.hasCert && code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE')) {
    return 'the server requires a client certificate (mutual TLS): set FLIP_TLS_CERT and FLIP_TLS_KEY'
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' || code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') {
    return `the server refused the client certificate in FLIP_TLS_CERT (${code.replace(/^ERR_SSL_(SSLV3|TLSV1)_ALERT_/, '').toLowerCase().replaceAll('_', ' ')}): it must be valid and signed by a CA the server trusts`
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return 'the server does not speak TLS on this port (use valkey:// or redis:// for a plain connection)'
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS failed (${code})`
  return undefined
}
