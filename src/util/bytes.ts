// Byte sizes printed for people, in the two spellings flip uses: "1.5 MB" when reporting an
// amount (progress, status), and "64mb" as valkey.conf and flip's flags spell a size the user
// sets (--db-maxmemory, --max-record-bytes). Both use binary units (1 kb = 1024 bytes).
// Imports nothing from flip: the engine uses it too.

/** "1.5 MB", "512 B", "3 GB": an amount, rounded (one decimal below 10). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
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
