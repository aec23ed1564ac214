/**
 * Writing small files so that a crash leaves the old content or the new one, never a torn
 * file: write and fsync, rename over, fsync the directory (the rename is durable only then).
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `data` to `path` and fsyncs it; with `exclusive`, `path` must not exist yet. */
export async function writeDurably(
  path: string,
  data: string | Uint8Array,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  const handle = await open(path, options.exclusive === true ? 'wx' : 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Fsyncs a directory, making renames and unlinks in it durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `data` atomically and durably (through `path` + `.tmp`). */
export async function replaceDurably(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeDurably(temporary, data);
  await rename(temporary, path);
  await fsyncDirectory(dirname(path));
}
