// "Did you mean …?" for a mistyped command: the command whose words are fewest edits away
// from the words typed, when that is close enough to be a typo rather than another word.

/** The closest command (as its words), or undefined when none is within a typo's reach. */
export function closestCommand(typed: string[], commands: string[][]): string[] | undefined {
  let best: {command: string[]; distance: number} | undefined
  for (const command of commands) {
    const words = typed.slice(0, command.length).join(' ')
    const distance = editDistance(words, command.join(' '))
    if (distance <= typoReach(command.join(' ')) && (!best || distance < best.distance)) best = {command, distance}
  }
  return best?.command
}

/** One edit for short names, two from eight characters on. */
function typoReach(name: string): number {
  return name.length >= 8 ? 2 : 1
}

/** Edits (insert, delete, replace, swap of two neighbours) that turn a into b. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({length: rows}, (_, i) => Array.from({length: cols}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[rows - 1][cols - 1]
}
