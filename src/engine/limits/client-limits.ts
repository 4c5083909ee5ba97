// The per-client limits a node enforces, as Valkey names and checks them: maxclients,
// proto-max-bulk-len, client-query-buffer-limit and client-output-buffer-limit (normal class; the
// replica and pubsub classes are kept for CONFIG GET/SET only: the engine has neither).
// Parsing and CONFIG SET error texts follow Valkey's config.c and util.c (memtoull).

export interface OutputBufferLimit {
  hard: number
  soft: number
  softSeconds: number
}

const CLASSES = ['normal', 'replica', 'pubsub'] as const
type ClientClass = (typeof CLASSES)[number]

const LONG_MAX = 9223372036854775807n

/** Valkey's memtoull: digits with an optional b/k/kb/m/mb/g/gb unit (case-insensitive); null if malformed. */
export function parseMemory(text: string): number | null {
  const match = /^(\d*)(b|k|kb|m|mb|g|gb)?$/i.exec(text)
  if (!match || text.length >= 128) return null
  const unit = (match[2] ?? 'b').toLowerCase()
  const mul = {b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3}[unit]!
  return Number(match[1] || '0') * mul
}

/** A CONFIG SET rejection: the text after "ERR CONFIG SET failed (possibly related to argument 'x') - ". */
export class ConfigValueError extends Error {}

function memoryInRange(text: string, min: number): number {
  const value = parseMemory(text)
  if (value === null) throw new ConfigValueError('argument must be a memory value')
  if (value < min || BigInt(Math.floor(value)) > LONG_MAX) {
    throw new ConfigValueError(`argument must be between ${min} and ${LONG_MAX} inclusive`)
  }
  return value
}

export class ClientLimits {
  maxclients = 10000
  protoMaxBulkLen = 512 * 1024 * 1024
  queryBufferLimit = 1024 * 1024 * 1024
  readonly output: Record<ClientClass, OutputBufferLimit> = {
    normal: {hard: 0, soft: 0, softSeconds: 0},
    replica: {hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60},
    pubsub: {hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60},
  }

  /** Connections refused at maxclients (INFO rejected_connections). */
  rejectedConnections = 0
  /** Clients closed at an output-buffer limit (INFO client_output_buffer_limit_disconnections). */
  outputLimitDisconnections = 0
  /** Clients closed at client-query-buffer-limit (INFO client_query_buffer_limit_disconnections). */
  queryLimitDisconnections = 0

  /** CONFIG GET values, in Valkey's wording. */
  values(): Array<[string, string]> {
    const out = this.output
    const cobl = (['normal', 'slave', 'pubsub'] as const)
      .map((name, i) => {
        const l = out[CLASSES[i]]
        return `${name} ${l.hard} ${l.soft} ${l.softSeconds}`
      })
      .join(' ')
    return [
      ['maxclients', String(this.maxclients)],
      ['proto-max-bulk-len', String(this.protoMaxBulkLen)],
      ['client-query-buffer-limit', String(this.queryBufferLimit)],
      ['client-output-buffer-limit', cobl],
    ]
  }

  has(name: string): boolean {
    return name === 'maxclients' || name === 'proto-max-bulk-len' || name === 'client-query-buffer-limit' || name === 'client-output-buffer-limit'
  }

  /** Checks a CONFIG SET value; returns the change to apply, or throws ConfigValueError. */
  prepare(name: string, value: string): () => void {
    switch (name) {
      case 'maxclients': {
        if (!/^-?\d+$/.test(value)) throw new ConfigValueError("argument couldn't be parsed into an integer")
        const n = Number(value)
        if (n < 1 || n > 4294967295) throw new ConfigValueError('argument must be between 1 and 4294967295 inclusive')
        return () => (this.maxclients = n)
      }
      case 'proto-max-bulk-len': {
        const n = memoryInRange(value, 1024 * 1024)
        return () => (this.protoMaxBulkLen = n)
      }
      case 'client-query-buffer-limit': {
        const n = memoryInRange(value, 1024 * 1024)
        return () => (this.queryBufferLimit = n)
      }
      case 'client-output-buffer-limit':
        return this.prepareOutputLimits(value)
      default:
        throw new ConfigValueError('unknown option')
    }
  }

  /** "class hard soft seconds [class hard soft seconds ...]", as Valkey's config.c reads it. */
  private prepareOutputLimits(value: string): () => void {
    const words = value.split(' ').filter((w) => w !== '')
    if (words.length % 4 !== 0) throw new ConfigValueError('Wrong number of arguments in buffer limit configuration.')
    const changes: Array<[ClientClass, OutputBufferLimit]> = []
    for (let i = 0; i < words.length; i += 4) {
      const name = words[i].toLowerCase()
      const cls: ClientClass | undefined = name === 'slave' ? 'replica' : CLASSES.find((c) => c === name)
      if (!cls) throw new ConfigValueError('Invalid client class specified in buffer limit configuration.')
      const hard = parseMemory(words[i + 1])
      const soft = parseMemory(words[i + 2])
      const seconds = /^\d+$/.test(words[i + 3]) ? Number(words[i + 3]) : null
      if (hard === null || soft === null || seconds === null) {
        throw new ConfigValueError('Error in hard, soft or soft_seconds setting in buffer limit configuration.')
      }
      changes.push([cls, {hard, soft, softSeconds: seconds}])
    }
    return () => {
      for (const [cls, limit] of changes) this.output[cls] = limit
    }
  }
}
