// --url parsing: which servers, TLS or not, credentials, and one-line errors that never show a password.
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/plane/errors.js'
import {formatTarget, parseTargetUrl, redactUrl, resolveTargetUrl} from '../../src/plane/url.js'

const noEnv = {}

describe('parseTargetUrl', () => {
  it.each([
    ['valkey://10.0.0.1:7000', {tls: false, seeds: [{host: '10.0.0.1', port: 7000}]}],
    ['valkeys://cache.example.com:6380', {tls: true, seeds: [{host: 'cache.example.com', port: 6380}]}],
    ['redis://127.0.0.1', {tls: false, seeds: [{host: '127.0.0.1', port: 6379}]}],
    ['rediss://h1:7000,h2:7001,h3', {tls: true, seeds: [{host: 'h1', port: 7000}, {host: 'h2', port: 7001}, {host: 'h3', port: 6379}]}],
    ['valkey://localhost:7000', {tls: false, seeds: [{host: 'localhost', port: 7000}]}],
    ['valkey://:7000', {tls: false, seeds: [{host: '127.0.0.1', port: 7000}]}],
    ['VALKEY://h:1/', {tls: false, seeds: [{host: 'h', port: 1}]}],
    ['valkey://[::1]:7000,[fe80::1]', {tls: false, seeds: [{host: '::1', port: 7000}, {host: 'fe80::1', port: 6379}]}],
  ])('%s', (url, expected) => {
    expect(parseTargetUrl(url, {env: noEnv})).toEqual({...expected, username: undefined, password: undefined})
  })

  it('takes user and password from the URL, percent-decoded', () => {
    expect(parseTargetUrl('valkey://app:s%40cr%3At@h:7000', {env: noEnv})).toMatchObject({username: 'app', password: 's@cr:t'})
    expect(parseTargetUrl('redis://:only-password@h', {env: noEnv})).toMatchObject({username: undefined, password: 'only-password'})
    expect(parseTargetUrl('redis://justuser@h', {env: noEnv})).toMatchObject({username: 'justuser', password: undefined})
  })

  it('falls back to the password option, then FLIP_PASSWORD; a password in the URL wins', () => {
    expect(parseTargetUrl('valkey://h', {password: 'flag', env: {FLIP_PASSWORD: 'env'}}).password).toBe('flag')
    expect(parseTargetUrl('valkey://h', {env: {FLIP_PASSWORD: 'env'}}).password).toBe('env')
    expect(parseTargetUrl('valkey://:url@h', {password: 'flag', env: {FLIP_PASSWORD: 'env'}}).password).toBe('url')
  })

  it.each([
    ['h:7000', /expected valkey:\/\/host:port/],
    ['http://h:7000', /unsupported scheme "http"/],
    ['valkey://h:0', /invalid port "0"/],
    ['valkey://h:70000', /invalid port "70000"/],
    ['valkey://h:port', /invalid port "port"/],
    ['valkey://h:7000/3', /must not name a database \("\/3"\): choose dbs with --live and --shadow/],
    ['valkey://h:7000?db=3', /query strings/],
    ['valkey://::1:7000', /IPv6 hosts in brackets/],
    ['valkey://[::1:7000', /unclosed "\["/],
    ['valkey://h h:7000', /invalid host "h h"/],
    ['valkey://h:7000,,h2', /empty host:port entry/],
    ['valkey://', /empty host:port entry/],
  ])('rejects %s with a one-line usage error', (url, message) => {
    let error: unknown
    try {
      parseTargetUrl(url, {env: noEnv})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exitCode).toBe(2)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain('\n')
  })

  it('never repeats the password in an error', () => {
    expect(() => parseTargetUrl('valkey://app:hunter2@h:99999', {env: noEnv})).toThrow('invalid URL valkey://app:***@h:99999: invalid port "99999"')
    expect(() => parseTargetUrl('valkey://app:%ZZhunter2@h', {env: noEnv})).toThrow(/malformed percent-encoding in the password/)
    try {
      parseTargetUrl('valkey://app:%ZZhunter2@h', {env: noEnv})
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2')
    }
  })
})

describe('redactUrl', () => {
  it.each([
    ['valkey://app:hunter2@h:7000', 'valkey://app:***@h:7000'],
    ['redis://:hunter2@h', 'redis://:***@h'],
    ['rediss://app:p@ss@h:1,h2:2', 'rediss://app:***@h:1,h2:2'],
    ['valkey://app@h', 'valkey://app@h'],
    ['valkey://h:7000', 'valkey://h:7000'],
    ['not a url:secret@x', 'not a url:***@x'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted)
  })
})

describe('formatTarget', () => {
  it('prints a canonical URL with the password hidden', () => {
    expect(formatTarget(parseTargetUrl('rediss://app:x@h1:7000,[::1]', {env: noEnv}))).toBe('valkeys://app:***@h1:7000,[::1]:6379')
    expect(formatTarget(parseTargetUrl('redis://h', {env: {FLIP_PASSWORD: 'x'}}))).toBe('valkey://:***@h:6379')
  })
})

describe('resolveTargetUrl', () => {
  it('uses the flag, else FLIP_URL, else VALKEY_URL', () => {
    expect(resolveTargetUrl('valkey://flag', {FLIP_URL: 'valkey://flip', VALKEY_URL: 'valkey://valkey'})).toBe('valkey://flag')
    expect(resolveTargetUrl(undefined, {FLIP_URL: 'valkey://flip', VALKEY_URL: 'valkey://valkey'})).toBe('valkey://flip')
    expect(resolveTargetUrl(undefined, {FLIP_URL: '', VALKEY_URL: 'valkey://valkey'})).toBe('valkey://valkey')
    expect(resolveTargetUrl(undefined, {})).toBeUndefined()
  })
})
