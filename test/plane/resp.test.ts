// The plane's own RESP: commands encoded straight into Buffers, replies read from any chunking.
import {describe, expect, it} from 'vitest'
import {RespError} from '../../src/plane/errors.js'
import {CommandEncoder, encodeCommand, type Reply, ReplyReader} from '../../src/plane/resp.js'

describe('CommandEncoder', () => {
  it('encodes strings, binary Buffers and numbers as bulk strings', () => {
    expect(encodeCommand(['SET', Buffer.from([0, 0xff]), 'é', 42]).toString('latin1')).toBe(
      '*4\r\n$3\r\nSET\r\n$2\r\n\x00\xff\r\n$2\r\n\xc3\xa9\r\n$2\r\n42\r\n',
    )
  })

  it('writes scores as Valkey parses them', () => {
    expect(encodeCommand(['ZADD', 'z', 1.5, 'a', -3, 'b', Infinity, 'c', -Infinity, 'd', 0.1]).toString()).toBe(
      '*11\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\na\r\n$2\r\n-3\r\n$1\r\nb\r\n$3\r\ninf\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\nd\r\n$3\r\n0.1\r\n',
    )
  })

  it('packs many commands into one buffer, growing past its initial size', () => {
    const encoder = new CommandEncoder(16)
    const big = Buffer.alloc(100_000, 'x')
    encoder.append(['SET', 'k', big])
    encoder.append(['PING'])
    expect(encoder.count).toBe(2)
    const bytes = encoder.take()
    expect(bytes.length).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n'.length + 100_000 + 2 + '*1\r\n$4\r\nPING\r\n'.length)
    expect(encoder.count).toBe(0)
    expect(encoder.byteLength).toBe(0)
  })
})

describe('ReplyReader', () => {
  const wire = Buffer.from(
    '+OK\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
      '*3\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n+QUEUED\r\n$10\r\nwith\r\nCRLF\r\n',
  )
  const expected: Reply[] = [
    'OK',
    42,
    -7,
    Buffer.from('hello'),
    null,
    null,
    [],
    new RespError('WRONGTYPE Operation against a key holding the wrong kind of value'),
    [Buffer.from('a'), [1, Buffer.alloc(0)], 'QUEUED'],
    Buffer.from('with\r\nCRLF'),
  ]

  function readAll(chunks: Buffer[]): Reply[] {
    const replies: Reply[] = []
    const reader = new ReplyReader((reply) => replies.push(reply))
    for (const chunk of chunks) reader.feed(chunk)
    return replies
  }

  it('reads whole replies', () => {
    expect(readAll([wire])).toEqual(expected)
  })

  it('reads replies fed byte by byte', () => {
    expect(readAll([...wire].map((byte) => Buffer.from([byte])))).toEqual(expected)
  })

  it('reads replies split at every possible point', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      expect(readAll([wire.subarray(0, cut), wire.subarray(cut)])).toEqual(expected)
    }
  })

  it('names error codes', () => {
    expect(new RespError('MOVED 3999 127.0.0.1:7001').code).toBe('MOVED')
    expect(new RespError('TRYAGAIN').code).toBe('TRYAGAIN')
  })
})
