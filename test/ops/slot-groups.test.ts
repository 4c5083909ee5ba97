// verify names wrong keys slot group by slot group, so its memory stays bounded.
import {describe, expect, it} from 'vitest'
import {slotGroups} from '../../src/ops/verify.js'

const slotsOf = (mask: Uint8Array) => [...mask.keys()].filter((slot) => mask[slot] === 1)

describe('slotGroups', () => {
  it('packs slots into groups of at most `limit` expected keys, in slot order', () => {
    const keys: Record<number, number> = {1: 40, 2: 40, 3: 30, 9: 100, 10: 5}
    const groups = slotGroups([1, 2, 3, 9, 10], (slot) => keys[slot], 100)
    expect(groups.map(slotsOf)).toEqual([[1, 2], [3], [9], [10]])
  })

  it('gives one group when everything fits, and none when no slot differs', () => {
    expect(slotGroups([5, 6], () => 1, 100).map(slotsOf)).toEqual([[5, 6]])
    expect(slotGroups([], () => 1, 100)).toEqual([])
  })
})
