// Byte sizes printed for people, in the spellings flip uses: "1.5 MB" when reporting an
// amount (progress, status), "64mb" as valkey.conf and flip's flags spell a size the user
// sets (--db-maxmemory, --max-record-bytes), and "1.50M" as Valkey's INFO prints its *_human
// fields. All use binary units (1 kb = 1024 bytes).
// Imports nothing from flip: the engine uses it too.

/** "1.5 MB", "512 B", "3 GB": an amount, rounded (one decimal below 10). */
export function formatBytes(bytes: number): string {
  const [value, unit] = inBinaryUnits(bytes)
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${['B', 'KB', 'MB', 'GB', 'TB'][unit]}`
}

/** "1.50M", "512B": Valkey's bytesToHuman, for INFO's used_memory_human and the like. */
export function formatBytesAsValkey(bytes: number): string {
  const [value, unit] = inBinaryUnits(bytes)
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${['B', 'K', 'M', 'G', 'T'][unit]}`
}

/** The amount in the largest binary unit it reaches (0 = bytes … 4 = TB), and that unit. */
function inBinaryUnits(bytes: number): [number, number] {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < 4) {
    value /= 1024
    unit++
  }
  return [value, unit]
}

const SETTING_UNITS = [
  ['gb', 1024 ** 3],
  ['mb', 1024 ** 2],
  ['kb', 1024],
] as const

/**
 * A size as a setting spells it: 67108864 → "64mb". `exact`: only whole units ("1536kb"), else
 * "N bytes", so a limit reads back as it can be typed; otherwise the largest unit with one
 * decimal ("1.5mb"), else "Nb".
 */
export function formatSize(bytes: number, options: {exact?: boolean} = {}): string {
  for (const [unit, size] of SETTING_UNITS) {
    if (options.exact) {
      if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
    } else if (bytes >= size) {
      const n = bytes / size
      return `${Number.isInteger(n) ? n : n.toFixed(1)}${unit}`
    }
  }
  return options.exact ? `${bytes} bytes` : `${bytes}b`
}
