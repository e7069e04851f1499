/**
 * Durable file operations: write-to-temp + fsync + rename + directory fsync, and the mapping
 * of low-level errors (ENOSPC, EDQUOT, ...) to ReinsError with operator-facing messages.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { ReinsError } from '../common/errors';

export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'disk_full') return true;
  return typeof e.message === 'string' && /No space left on device|ENOSPC|Disk quota exceeded/i.test(e.message);
}

/** Wraps any I/O failure as a ReinsError (disk_full or recording_error) with `what` in the message. */
export function ioError(err: unknown, what: string): ReinsError {
  if (err instanceof ReinsError) return err;
  if (isDiskFull(err)) {
    return new ReinsError('disk_full', `The disk is full while ${what}. Recording stopped; the episodes already saved are intact. Free some space, then recover or discard the interrupted episode.`, { cause: String((err as Error)?.message ?? err) });
  }
  return new ReinsError('recording_error', `Recording failed while ${what}: ${(err as Error)?.message ?? String(err)}`);
}

export async function fsyncPath(path: string, dir = false): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, dir ? fsc.O_RDONLY : fsc.O_RDWR);
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory: the rename is still atomic there.
    if (!dir) throw err;
  } finally {
    await fh?.close();
  }
}

let tmpCounter = 0;
export function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++tmpCounter}`);
}

export function isTmpName(name: string): boolean {
  return /^\..+\.tmp-\d+-\d+$/.test(name);
}

/** Writes `data` to a temp file beside `path`, fsyncs it, renames over `path`, fsyncs the directory. */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncPath(dirname(path), true);
}

/** Moves an already written file into place durably (fsync file, rename, fsync directory). */
export async function durableRename(src: string, dst: string): Promise<void> {
  await fsyncPath(src);
  await fsp.mkdir(dirname(dst), { recursive: true });
  await fsp.rename(src, dst);
  await fsyncPath(dirname(dst), true);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}
