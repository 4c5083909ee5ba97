// Number → text the way Valkey writes it, so scripts produce the same bytes on our engine.

// double2ll() in Valkey's util.c only takes the integer path inside ±LLONG_MAX/2.
const INTEGER_PATH_LIMIT = 2 ** 62

/**
 * A Lua number passed to redis.call: integral values print as integers (no "1e+15"),
 * others through fpconv_dtoa (shortest round-trip digits), as luaArgsToServerArgv does.
 */
export function formatCommandNumber(n: number): string {
  if (Number.isInteger(n) && n >= -INTEGER_PATH_LIMIT && n <= INTEGER_PATH_LIMIT) {
    return Object.is(n, -0) ? '0' : String(n)
  }
  return fpconvDtoa(n)
}

/**
 * A double written as text: Valkey's d2string for RESP2 double replies
 * (inf, -inf, nan, integers plainly, else shortest round-trip digits).
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan'
  if (d === Infinity) return 'inf'
  if (d === -Infinity) return '-inf'
  if (d === 0) return Object.is(d, -0) ? '-0' : '0'
  if (Number.isInteger(d) && Math.abs(d) <= INTEGER_PATH_LIMIT) return String(d)
  return fpconvDtoa(d)
}

/** Port of the layout rules of fpconv_dtoa's emit_digits (deps/fpconv in Valkey). */
export function fpconvDtoa(d: number): string {
  if (Number.isNaN(d)) return 'nan'
  const negative = d < 0 || Object.is(d, -0)
  const sign = negative ? '-' : ''
  const abs = Math.abs(d)
  if (abs === 0) return sign + '0'
  if (abs === Infinity) return sign + 'inf'

  // toExponential() without digits gives the shortest round-trip mantissa, as grisu does.
  const [mantissa, exponentText] = abs.toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const ndigits = digits.length
  const decimalExponent = Number(exponentText)
  const K = decimalExponent - (ndigits - 1) // value = digits × 10^K
  const exp = Math.abs(K + ndigits - 1)

  if (K >= 0 && exp < ndigits + 7) return sign + digits + '0'.repeat(K)
  if (K < 0 && (K > -7 || exp < 4)) {
    const offset = ndigits + K
    if (offset <= 0) return sign + '0.' + '0'.repeat(-offset) + digits
    return sign + digits.slice(0, offset) + '.' + digits.slice(offset)
  }
  const kept = digits.slice(0, Math.min(ndigits, 18 - (negative ? 1 : 0)))
  const head = kept.length > 1 ? kept[0] + '.' + kept.slice(1) : kept
  return sign + head + 'e' + (K + ndigits - 1 < 0 ? '-' : '+') + String(exp)
}
