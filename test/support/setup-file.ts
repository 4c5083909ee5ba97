// Runs in every test file before its tests: registered first, this afterAll runs last, after the
// file's own hooks have stopped the servers that may still write into these dirs.
import {afterAll} from 'vitest'
import {removeTempDirs} from './temp.js'

afterAll(removeTempDirs)
