// An iovalkey client to one node of a plane's target, for tests that check where data really
// landed with a client flip's plane shares no code with. Test-only: flip itself talks to
// servers through the plane's own connections.
import {isIP} from 'node:net'
import {Valkey} from 'iovalkey'
import {ConnectionError, DbNotAvailableError, PlaneError, type Plane} from '../../src/plane/index.js'
import {clusterDatabasesRemedy} from '../../src/plane/errors.js'
import {formatAddress} from '../../src/plane/url.js'

/**
 * A new iovalkey client to a node, bound to `db` (default: the plane's) with the `db` option
 * (re-selected on every reconnect) and checked with CLIENT INFO before it is returned, since
 * iovalkey carries on in db 0 when the server refuses SELECT. The caller must quit() it.
 */
export async function dedicatedClient(plane: Plane, node: {host: string; port: number}, options: {db?: number} = {}): Promise<Valkey> {
  const settings = plane.connectionOptions(node, options)
  const db = settings.db!
  const address = formatAddress(node)
  const client = new Valkey({
    host: node.host,
    port: node.port,
    username: settings.username,
    password: settings.password,
    db,
    tls: settings.tls ? {...(isIP(node.host) ? {} : {servername: node.host}), ...(settings.tlsCa === undefined ? {} : {ca: settings.tlsCa})} : undefined,
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: 2,
  })
  let lastError: Error | undefined
  client.on('error', (error: Error) => {
    lastError = error
  })
  try {
    await client.connect()
    const info = String(await client.call('CLIENT', 'INFO'))
    const actual = Number(/(?:^| )db=(\d+)/.exec(info)?.[1])
    if (actual !== db) {
      throw new DbNotAvailableError(
        `database ${db} is not available on ${address} (the connection is in db ${actual}${lastError ? `: ${lastError.message}` : ''})`,
        db,
        plane.mode === 'cluster' ? clusterDatabasesRemedy(db) : undefined,
      )
    }
    return client
  } catch (error) {
    client.disconnect()
    if (error instanceof PlaneError) throw error
    throw new ConnectionError(`cannot connect to ${address}: ${(error as Error).message}`)
  }
}
