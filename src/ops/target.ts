// Where the ops connect: the target the CLI resolved (src/cli/target.ts); each op picks its dbs.
import {connectPlane, type Plane, type ServerTarget} from '../plane/index.js'
import type {TargetIdentity} from '../dataset/manifest.js'

export function openPlane(target: ServerTarget, db: number): Promise<Plane> {
  return connectPlane({...target, db})
}

/** The plane's identity plus the server software and version (INFO server), never a secret. */
export async function describeTarget(plane: Plane): Promise<TargetIdentity> {
  const identity: TargetIdentity = {...plane.identity()}
  try {
    const info = String(await plane.command(plane.primaries[0], ['INFO', 'server']))
    const field = (name: string) => new RegExp(`^${name}:(.+?)\\r?$`, 'm').exec(info)?.[1]
    const valkey = field('valkey_version')
    const name = field('server_name') ?? (valkey ? 'valkey' : 'redis')
    const version = valkey ?? field('redis_version')
    // The bundled engine answers as Valkey (it mimics one) but names itself in `executable`.
    const bundled = field('executable')?.endsWith('flip-engine') ? ' (flip bundled engine)' : ''
    if (version !== undefined) identity.server = `${name} ${version}${bundled}`
  } catch {
    // INFO may be renamed or refused (ACL): the identity is still useful without it.
  }
  return identity
}
