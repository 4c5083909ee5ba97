// The RESP request parser must give the same commands however TCP splits the bytes: every
// message is fed whole, byte by byte, and in random chunks.
import {describe, expect, it} from 'vitest'
import {RequestParser, splitInlineArgs} from '../../src/engine/resp/parser.js'
import {encodeCommand} from './support/resp-client.js'

interface Outcome {
  commands: string[][]
  errors: string[]
}

function feedIn(chunks: Buffer[], authRequired = false): Outcome {
  const parser = new RequestParser()
  parser.authRequired = authRequired
  const outcome: Outcome = {commands: [], errors: []}
  const sink = {
    command: (argv: string[]) => {
      outcome.commands.push(argv)
      return true
    },
    protocolError: (message: string) => outcome.errors.push(message),
  }
  for (const chunk of chunks) parser.feed(chunk, sink)
  return outcome
}

function whole(bytes: Buffer): Buffer[] {
  return [bytes]
}
function byteByByte(bytes: Buffer): Buffer[] {
  return [...bytes].map((b) => Buffer.from([b]))
}
function randomChunks(bytes: Buffer, seed: number): Buffer[] {
  let state = seed
  const next = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff), state)
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + (next() % 17)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

/** Asserts the outcome is the same for all three ways of splitting. */
function parseEveryWay(bytes: Buffer, authRequired = false): Outcome {
  const expected = feedIn(whole(bytes), authRequired)
  expect(feedIn(byteByByte(bytes), authRequired)).toEqual(expected)
  for (let seed = 1; seed <= 20; seed++) expect(feedIn(randomChunks(bytes, seed), authRequired)).toEqual(expected)
  return expected
}

const latin1 = (b: Buffer) => b.toString('latin1')

describe('RESP request parser', () => {
  it('parses a pipeline of multibulk commands', () => {
    const bytes = Buffer.concat([encodeCommand(['SET', 'k', 'v']), encodeCommand(['GET', 'k']), encodeCommand(['PING'])])
    expect(parseEveryWay(bytes)).toEqual({commands: [['SET', 'k', 'v'], ['GET', 'k'], ['PING']], errors: []})
  })

  it('keeps binary keys and values byte for byte (latin1 strings map bytes 1:1)', () => {
    const key = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x80])
    const value = Buffer.from('日本語\r\n\0', 'utf8')
    const {commands} = parseEveryWay(encodeCommand(['SET', key, value]))
    expect(commands).toEqual([['SET', latin1(key), latin1(value)]])
    expect(Buffer.from(commands[0][2], 'latin1').equals(value)).toBe(true)
  })

  it('handles empty bulks and big bulks split over many chunks', () => {
    const big = Buffer.alloc(200_000, 'x')
    const {commands} = parseEveryWay(Buffer.concat([encodeCommand(['SET', '', big]), encodeCommand(['GET', ''])]))
    expect(commands.map((c) => c.map((a) => a.length))).toEqual([[3, 0, 200_000], [3, 0]])
  })

  it('ignores empty multibulks (*0 and *-1)', () => {
    expect(parseEveryWay(Buffer.from('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')).commands).toEqual([['PING']])
  })

  it('parses inline commands, with quotes and escapes, \\n or \\r\\n endings, skipping empty lines', () => {
    const bytes = Buffer.from('PING\r\n\r\nSET k "a b\\x41\\n" \'it\\\'s\'\nGET   k\r\n')
    expect(parseEveryWay(bytes).commands).toEqual([['PING'], ['SET', 'k', 'a bA\n', "it's"], ['GET', 'k']])
  })

  it('mixes inline and multibulk in one stream', () => {
    const bytes = Buffer.concat([Buffer.from('PING\r\n'), encodeCommand(['ECHO', 'x']), Buffer.from('DBSIZE\n')])
    expect(parseEveryWay(bytes).commands).toEqual([['PING'], ['ECHO', 'x'], ['DBSIZE']])
  })

  it.each([
    ['*x\r\n', 'Protocol error: invalid multibulk length'],
    ['*2147483648\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$536870913\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n+PING\r\n', "Protocol error: expected '$', got '+'"],
    ['SET k "unclosed\r\n', 'Protocol error: unbalanced quotes in request'],
    ['SET k "closed"x\r\n', 'Protocol error: unbalanced quotes in request'],
  ])('rejects %j with Valkey\'s error', (input, message) => {
    expect(parseEveryWay(Buffer.from(input))).toEqual({commands: [], errors: [message]})
  })

  it('stops at the first protocol error (commands before it still run)', () => {
    const bytes = Buffer.concat([encodeCommand(['PING']), Buffer.from('*1\r\n:1\r\n'), encodeCommand(['PING'])])
    expect(parseEveryWay(bytes)).toEqual({commands: [['PING']], errors: ["Protocol error: expected '$', got ':'"]})
  })

  it('limits lines without a newline (64 KB) like Valkey', () => {
    expect(feedIn([Buffer.alloc(70_000, 'a')]).errors).toEqual(['Protocol error: too big inline request'])
    expect(feedIn([Buffer.from('*' + '1'.repeat(70_000))]).errors).toEqual(['Protocol error: too big mbulk count string'])
    expect(feedIn([Buffer.from('*1\r\n$' + '1'.repeat(70_000))]).errors).toEqual(['Protocol error: too big bulk count string'])
  })

  it('applies the tighter limits to unauthenticated clients', () => {
    expect(parseEveryWay(Buffer.from('*11\r\n'), true).errors).toEqual(['Protocol error: unauthenticated multibulk length'])
    expect(parseEveryWay(Buffer.from('*1\r\n$16385\r\n'), true).errors).toEqual(['Protocol error: unauthenticated bulk length'])
  })
})

describe('inline argument splitting (sdssplitargs)', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['"a\\tb" \'c d\'', ['a\tb', 'c d']],
    ['""', ['']],
    ['  ', []],
  ])('%j', (line, args) => {
    expect(splitInlineArgs(line)).toEqual(args)
  })
  it('null on unbalanced quotes', () => {
    expect(splitInlineArgs('"abc')).toBeNull()
    expect(splitInlineArgs("'abc")).toBeNull()
  })
})
