// Files that matter (plans, journals, manifests, state) are written atomically:
// temp file in the same directory, fsync, rename, fsync the directory. A crash leaves
// either the old file or the new one, never half of either.
import {randomBytes} from 'node:crypto'
import {promises as fs, closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await fs.mkdir(dirname(path), {recursive: true})
  const temp = tempName(path)
  const handle = await fs.open(temp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await fs.rename(temp, path)
  } catch (error) {
    await fs.rm(temp, {force: true})
    throw error
  }
  await syncDirectory(dirname(path))
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  mkdirSync(dirname(path), {recursive: true})
  const temp = tempName(path)
  const fd = openSync(temp, 'w', mode)
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    let written = 0
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
  try {
    const dirFd = openSync(dirname(path), 'r')
    try {
      fsyncSync(dirFd)
    } finally {
      closeSync(dirFd)
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n')
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // See writeFileAtomicSync.
  }
}
