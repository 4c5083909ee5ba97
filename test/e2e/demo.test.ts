// The README's first command runs `flip demo`: the whole story on the bundled engine.
// This runs it as a user would and reads what it prints.
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

describe('flip demo (the main job)', () => {
  it('stages, verifies, diffs, cuts over on schedule, rolls back, and leaves nothing running', () => {
    const result = spawnSync(process.execPath, [runJs, 'demo', '--lead', '3'], {
      encoding: 'utf8',
      env: {...process.env, CI: 'true', NODE_ENV: 'production'},
      timeout: 420_000, // the whole story: minutes on a busy machine
    })
    expect(result.status, result.stderr).toBe(0)
    const out = result.stdout
    const prices = (title: string) => new RegExp(`${title}: SKU-000001 (\\S+) · SKU-000002 (\\S+) · SKU-000004 (\\S+) · SKU-100001 (\\S+)`).exec(out)?.slice(1)
    expect(prices('live prices before the sale')).toEqual(['180.99', '65.98', '361.98', '(none)'])
    expect(prices('live prices after the cutover')).toEqual(['126.69', '65.98', '361.98', '10.99'])
    expect(prices('live prices after the rollback')).toEqual(['180.99', '65.98', '361.98', '(none)'])
    expect(out).toMatch(/\+3 added {2}-0 removed {2}~44,250 changed/)
    expect(out).toMatch(/atomic: scripts overlapped \(proven\)/)
    expect(out).toMatch(/live matches its pre-cutover checksum \(100,000 keys, 094dcc0f0ebc45649401aebb27df8611\)/)
    expect(out).toMatch(/flip engine stopped/)
  }, 450_000) // the child's own limit comes first
})
