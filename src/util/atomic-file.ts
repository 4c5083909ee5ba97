// Files that matter (plans, journals, manifests, engine state and snapshots) are written
// atomically: temp file in the same directory, fsync, rename, fsync the directory. A crash
// leaves either the old file or the new one, never half of either. The engine's snapshot writer
// uses the same primitive (writeAtomic/writeAtomicSync with its own serializer): this module
// imports nothing from flip, so the engine may use it like src/util/keyslot.ts.
import {randomBytes} from 'node:crypto'
import {promises as fs, closeSync, fsync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

export interface AtomicWriteOptions {
  /** File mode of the new file; default 0o600. */
  mode?: number
  /** Runs after the data is on disk and just before the rename (e.g. keep the current file as .prev). */
  beforeRename?: () => void
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Writes `path` atomically through `write(fd)` (synchronous: the data is a point-in-time copy);
 * the fsync and the rename do not block the event loop. Returns what `write` returned.
 */
export async function writeAtomic<T>(path: string, write: (fd: number) => T, options: AtomicWriteOptions = {}): Promise<T> {
  mkdirSync(dirname(path), {recursive: true})
  const temp = tempName(path)
  const fd = openSync(temp, 'w', options.mode ?? 0o600)
  let result: T
  try {
    result = write(fd)
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())))
  } catch (error) {
    closeSync(fd)
    rmSync(temp, {force: true})
    throw error
  }
  closeSync(fd)
  try {
    options.beforeRename?.()
    await fs.rename(temp, path)
  } catch (error) {
    rmSync(temp, {force: true})
    throw error
  }
  syncDirectory(dirname(path))
  return result
}

/** The same, fully synchronous: for a process that is shutting down, or startup files. */
export function writeAtomicSync<T>(path: string, write: (fd: number) => T, options: AtomicWriteOptions = {}): T {
  mkdirSync(dirname(path), {recursive: true})
  const temp = tempName(path)
  const fd = openSync(temp, 'w', options.mode ?? 0o600)
  let result: T
  try {
    result = write(fd)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(temp, {force: true})
    throw error
  }
  closeSync(fd)
  try {
    options.beforeRename?.()
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, {force: true})
    throw error
  }
  syncDirectory(dirname(path))
  return result
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  return writeAtomic(path, (fd) => writeAll(fd, data), {mode})
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  writeAtomicSync(path, (fd) => writeAll(fd, data), {mode})
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n')
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  let written = 0
  while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written)
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}
