// Glob-style matching as Valkey's stringmatchlen (util.c): * ? [abc] [^a-z] and \ escapes,
// on latin1 byte strings. Used by KEYS, SCAN MATCH, *SCAN MATCH and CONFIG GET.

export function globMatch(pattern: string, text: string, nocase = false): boolean {
  if (pattern === '*') return true
  return matchFrom(pattern, 0, text, 0, nocase, 0) === 1
}

// Returns 1 match, 0 no match, -1 "skip longer": once a * failed for every suffix, stop trying
// (the same trick Valkey uses against exponential backtracking).
function matchFrom(p: string, pi: number, s: string, si: number, nocase: boolean, depth: number): number {
  if (depth > 1000) return 0
  const plen = p.length
  const slen = s.length
  while (pi < plen && si < slen) {
    const c = p[pi]
    if (c === '*') {
      while (pi + 1 < plen && p[pi + 1] === '*') pi++
      if (pi + 1 === plen) return 1
      for (let k = si; k < slen; k++) {
        const r = matchFrom(p, pi + 1, s, k, nocase, depth + 1)
        if (r === 1) return 1
        if (r === -1) return -1
      }
      return -1
    } else if (c === '?') {
      si++
    } else if (c === '[') {
      pi++
      const not = p[pi] === '^'
      if (not) pi++
      let match = false
      for (;;) {
        if (pi >= plen) {
          pi--
          break
        }
        if (p[pi] === '\\' && plen - pi >= 2) {
          pi++
          if (same(p[pi], s[si], nocase)) match = true
        } else if (p[pi] === ']') {
          break
        } else if (plen - pi >= 3 && p[pi + 1] === '-') {
          let start = p.charCodeAt(pi)
          let end = p.charCodeAt(pi + 2)
          let ch = s.charCodeAt(si)
          if (start > end) [start, end] = [end, start]
          if (nocase) {
            start = lower(start)
            end = lower(end)
            ch = lower(ch)
          }
          pi += 2
          if (ch >= start && ch <= end) match = true
        } else if (same(p[pi], s[si], nocase)) {
          match = true
        }
        pi++
      }
      if (not) match = !match
      if (!match) return 0
      si++
    } else if (c === '\\' && plen - pi >= 2) {
      pi++
      if (!same(p[pi], s[si], nocase)) return 0
      si++
    } else {
      if (!same(c, s[si], nocase)) return 0
      si++
    }
    pi++
  }
  if (si === slen) {
    while (pi < plen && p[pi] === '*') pi++
  }
  return pi === plen && si === slen ? 1 : 0
}

function lower(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code
}

function same(a: string, b: string, nocase: boolean): boolean {
  if (a === b) return true
  return nocase && lower(a.charCodeAt(0)) === lower(b.charCodeAt(0))
}
