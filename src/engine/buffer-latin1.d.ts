// Node's Buffer has fast latin1 helpers that @types/node does not declare. The engine uses them
// on its hot path: latin1 maps bytes 1:1 to string chars, so keys and values stay binary-safe.
export {}

declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string
    latin1Write(text: string, offset?: number, length?: number): number
  }
}
