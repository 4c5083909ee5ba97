#!/usr/bin/env node
// Regenerates the demo catalog: 100,000 regular prices and the Black Friday file that
// replaces them (about 42% of prices cut, 3 products added). Deterministic: same bytes every run.
//   node templates/catalog/generate.mjs
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const PRODUCTS = 100_000
let seed = 20261127
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const cents = (n) => (Math.round(n * 100) / 100).toFixed(2)
const sku = (i) => `SKU-${String(i).padStart(6, '0')}`

const regular = ['sku,price']
const sale = ['sku,price']
for (let i = 1; i <= PRODUCTS; i++) {
  const price = 4.99 + Math.floor(random() * 400) + 0.99 * Math.floor(random() * 2)
  regular.push(`${sku(i)},${cents(price)}`)
  const cut = random() < 0.42 ? [0.8, 0.75, 0.7, 0.6][Math.floor(random() * 4)] : 1
  sale.push(`${sku(i)},${cents(price * cut)}`)
}
for (let i = PRODUCTS + 1; i <= PRODUCTS + 3; i++) sale.push(`${sku(i)},${cents(9.99 + i - PRODUCTS)}`)

writeFileSync(join(here, 'prices.csv'), regular.join('\n') + '\n')
writeFileSync(join(here, 'black-friday-prices.csv'), sale.join('\n') + '\n')
