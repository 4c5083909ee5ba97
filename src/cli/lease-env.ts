// `flip db lease --env`: KEY=value lines that work both in `eval "$(…)"` and appended to
// $GITHUB_ENV / a dotenv file, so no quoting: every value is built from URL-safe characters.
// Into a file (>> "$GITHUB_ENV", > .env) the lines are plain; anywhere else (the pipe of
// `$(…)`, a terminal) each starts with `export `, or `eval` would set shell variables that
// neither the job's programs nor flip's own `release` (FLIP_LEASE_TOKEN) ever see.
//   FLIP_DB            the leased db
//   FLIP_LEASE_TOKEN   what renew and release ask for
//   VALKEY_URL         for the job's own clients: the caller's scheme, the first seed (a cluster
//                      client finds the rest; most URL parsers take one host), the db in the path,
//                      and the leased user's credentials (else the caller's, if its URL had any)
//   FLIP_URL           the caller's URL, when it did not come from FLIP_URL: flip itself must keep
//                      talking as the caller (VALKEY_URL now names a db and, with --user, a user
//                      that cannot reach the metadata db)
//   FLIP_DB_USER, FLIP_DB_PASSWORD   with --user
// Under GitHub Actions, githubMasks() hides the secret values in the job's log.
import {formatAddress} from '../plane/index.js'
import {parseTargetUrl} from '../plane/url.js'
import type {LeaseResult} from '../registry/db-service.js'

export function leaseEnv(url: string, lease: LeaseResult, env: NodeJS.ProcessEnv, options: {exported: boolean}): string[] {
  const given = parseTargetUrl(url, {env: {}})
  const scheme = url.slice(0, url.indexOf('://')).toLowerCase()
  const user = lease.user?.name ?? given.username
  const password = lease.user?.password ?? given.password
  const credentials = user !== undefined || password !== undefined ? `${encode(user ?? '')}${password === undefined ? '' : `:${encode(password)}`}@` : ''
  const lines = [`FLIP_DB=${lease.db}`, `FLIP_LEASE_TOKEN=${lease.token}`, `VALKEY_URL=${scheme}://${credentials}${formatAddress(given.seeds[0])}/${lease.db}`]
  if (env.FLIP_URL?.trim() !== url) {
    const own = given.username !== undefined || given.password !== undefined ? `${encode(given.username ?? '')}${given.password === undefined ? '' : `:${encode(given.password)}`}@` : ''
    lines.push(`FLIP_URL=${scheme}://${own}${given.seeds.map(formatAddress).join(',')}`)
  }
  if (lease.user) lines.push(`FLIP_DB_USER=${lease.user.name}`, `FLIP_DB_PASSWORD=${lease.user.password}`)
  return options.exported ? lines.map((line) => `export ${line}`) : lines
}

/**
 * Under GitHub Actions (GITHUB_ACTIONS=true), `::add-mask::` lines for stderr, so the secrets the
 * --env lines carry (the token, the user's password, a URL with credentials) show as *** in the
 * log: the runner lists a step's environment, $GITHUB_ENV's included, at the top of later steps.
 * The runner reads workflow commands from stderr as from stdout, and stdout is $GITHUB_ENV here.
 */
export function githubMasks(lines: string[], env: NodeJS.ProcessEnv): string[] {
  if (env.GITHUB_ACTIONS !== 'true') return []
  const secret = /^(?:export )?(?:FLIP_LEASE_TOKEN|FLIP_DB_PASSWORD|(?:VALKEY|FLIP)_URL)=(.+)$/
  return lines.flatMap((line) => {
    const value = secret.exec(line)?.[1]
    if (value === undefined || (/_URL=/.test(line) && !/\/\/[^/]*@/.test(value))) return []
    return [`::add-mask::${value}`]
  })
}

/** Percent-encoding that also escapes the characters a shell would act on (encodeURIComponent leaves !'()*). */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
