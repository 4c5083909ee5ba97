// The engine's ZSet keeps (score, member) order through inserts, score updates and deletes of
// large sets: every query is checked against a plain sorted array after random operations.
import {describe, expect, it} from 'vitest'
import {ZSet, type ZEntry} from '../../../src/engine/keyspace/values.js'
import {seededRandom} from '../../support/random.js'


function model(scores: Map<string, number>): ZEntry[] {
  return [...scores].map(([member, score]) => ({member, score})).sort((a, b) => (a.score !== b.score ? a.score - b.score : a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
}

describe('ZSet order', () => {
  it('matches a sorted array after 60k random adds, moves and deletes (ties broken by member)', () => {
    const rand = seededRandom(12)
    const zset = new ZSet()
    const naive = new Map<string, number>()
    for (let i = 0; i < 60_000; i++) {
      const member = `m${Math.floor(rand() * 20_000)}`
      const r = rand()
      if (r < 0.2) {
        expect(zset.delete(member)).toBe(naive.delete(member))
      } else {
        // Few distinct scores: many ties, ordered by member.
        const score = r < 0.6 ? Math.floor(rand() * 50) : rand() * 1e6 - 5e5
        const isNew = !naive.has(member)
        naive.set(member, score)
        expect(zset.set(member, score)).toBe(isNew)
      }
      if (i % 15_000 === 14_999) {
        const expected = model(naive)
        expect(zset.size).toBe(expected.length)
        // Strings: vitest's deep equality is slow on 16k-entry arrays.
        expect(JSON.stringify(zset.entries())).toBe(JSON.stringify(expected))
        for (let k = 0; k < 100; k++) {
          const rank = Math.floor(rand() * expected.length)
          expect(zset.rank(expected[rank].member)).toBe(rank)
          expect(zset.at(rank)).toEqual(expected[rank])
          const end = Math.min(expected.length, rank + Math.floor(rand() * 700))
          expect(JSON.stringify(zset.range(rank, end))).toBe(JSON.stringify(expected.slice(rank, end)))
          const min = Math.floor(rand() * 60)
          expect(zset.countWhile((e) => e.score < min)).toBe(expected.filter((e) => e.score < min).length)
        }
        expect(zset.rank('absent')).toBe(-1)
        expect(zset.at(expected.length)).toBeUndefined()
      }
    }
    const copy = zset.clone()
    copy.set('m1', -1e9)
    copy.delete('m2')
    expect(JSON.stringify(zset.entries())).toBe(JSON.stringify(model(naive)))
  })

  it('removes rank ranges and empties fully', () => {
    const zset = new ZSet()
    for (let i = 0; i < 20_000; i++) zset.set(`m${i}`, i % 1000)
    const expected = zset.entries()
    expect(zset.removeRange(5000, 15_000)).toEqual(expected.slice(5000, 15_000))
    expect(zset.entries()).toEqual([...expected.slice(0, 5000), ...expected.slice(15_000)])
    for (const e of expected) zset.delete(e.member)
    expect(zset.size).toBe(0)
    expect(zset.entries()).toEqual([])
    zset.set('again', 1)
    expect(zset.entries()).toEqual([{member: 'again', score: 1}])
  })
})
