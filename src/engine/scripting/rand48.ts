// The lrand48 generator Valkey gives math.random (rand.c): the same sequence on every platform.
const MULTIPLIER = 0x5deece66dn
const INCREMENT = 0xbn
const MASK48 = (1n << 48n) - 1n
const INITIAL_STATE = 0x1234abcd330en

export const RAND48_MAX = 0x7fffffff

export class Rand48 {
  private state = INITIAL_STATE

  /** serverSrand48: the high 32 bits come from the seed, the low 16 are 0x330E. */
  seed(seed: number): void {
    this.state = ((BigInt(seed >>> 0) << 16n) | 0x330en) & MASK48
  }

  /** serverLrand48: a non-negative 31-bit integer. */
  next(): number {
    this.state = (this.state * MULTIPLIER + INCREMENT) & MASK48
    return Number(this.state >> 17n)
  }
}
