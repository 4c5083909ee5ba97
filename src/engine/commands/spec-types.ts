// Shapes of the data generated from Valkey's src/commands/*.json (see generate-specs.mjs).

export interface RawKeySpec {
  notes?: string
  flags: string[]
  begin_search: {index?: {pos: number}; keyword?: {keyword: string; startfrom: number}; unknown?: null}
  find_keys: {
    range?: {lastkey: number; step: number; limit: number}
    keynum?: {keynumidx: number; firstkey: number; step: number}
    unknown?: null
  }
}

export interface RawArgumentDoc {
  name: string
  type: string
  display?: string
  token?: string
  key_spec_index?: number
  value?: string
  summary?: string
  since?: string
  deprecated_since?: string
  optional?: boolean
  multiple?: boolean
  multiple_token?: boolean
  arguments?: RawArgumentDoc[]
}

export interface RawCommandDocs {
  summary?: string
  since?: string
  group?: string
  complexity?: string
  history?: Array<[string, string]>
  doc_flags?: string[]
  deprecated_since?: string
  replaced_by?: string
  arguments?: RawArgumentDoc[]
}

export interface RawCommandSpec {
  arity: number
  flags: string[]
  acl: string[]
  tips: string[]
  keySpecs: RawKeySpec[]
  docs: RawCommandDocs
  getKeysFunction?: string
  subcommands?: Record<string, RawCommandSpec>
}
