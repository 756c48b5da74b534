/**
 * Where the bytes of temporary media live. The local folder is the embedded default; an
 * S3-compatible store implements the same interface.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from './media.js';

export interface StoredObject {
  sizeBytes: number;
  sha256: string;
}

export class MediaTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the file is larger than ${limitBytes} bytes`);
    this.name = 'MediaTooLargeError';
  }
}

/** An object in the store, as cleanup sees it. */
export interface StoredEntry {
  key: string;
  /** When its bytes were last written. */
  modifiedAt: Date;
}

export interface MediaStore {
  /** Streams `source` into `key`, hashing as it goes; refuses (and keeps nothing) past `maxBytes`. */
  put(key: string, source: Readable, maxBytes: number): Promise<StoredObject>;
  /** Moves a finished local file into the store under `key` (the file is gone afterwards). */
  putFile(key: string, file: string): Promise<void>;
  /** The bytes, or a range of them. Rejects with code ENOENT when the key does not exist. */
  open(key: string, range?: ByteRange): Promise<Readable>;
  /** Size in bytes, or undefined when the key does not exist. */
  size(key: string): Promise<number | undefined>;
  /** Deletes the key; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every object under a key IQSP makes (`isMadeKey`), with when it was written: cleanup
   * deletes those no media row names. Anything else in the folder or bucket is not IQSP's.
   */
  list(): AsyncIterable<StoredEntry>;
  /**
   * Removes what writes that never finished left behind (a crash mid-write: a partial file, an
   * open multipart upload), when last written before `before`. Returns how many it removed.
   */
  removeUnfinished(before: Date): Promise<number>;
  /**
   * Optional: a short-lived URL where anyone holding it can fetch the bytes directly (an S3
   * presigned GET). A store offers it only when configured to; `GET /media/:token` then
   * redirects there instead of streaming the bytes through IQSP.
   */
  presignedUrl?(key: string, options: { ttlSeconds: number; contentType: string }): Promise<string>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
const MADE_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A local store's file being written: `<key>.partial`, renamed to `<key>` once complete. */
const PARTIAL_SUFFIX = '.partial';

/** Whether IQSP could have made `key` (keys are random UUIDs): cleanup touches nothing else. */
export function isMadeKey(key: string): boolean {
  return MADE_KEY.test(key);
}

/** Keys are ids IQSP makes (UUIDs); anything else is a bug, refused before it reaches a path or a bucket. */
export function assertMediaKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid media key "${key}"`);
}

export class LocalMediaStore implements MediaStore {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    assertMediaKey(key);
    return path.join(this.dir, key);
  }

  async put(key: string, source: Readable, maxBytes: number): Promise<StoredObject> {
    const target = this.file(key);
    const partial = `${target}${PARTIAL_SUFFIX}`;
    await mkdir(this.dir, { recursive: true });
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new MediaTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { sizeBytes: size, sha256: hash.digest('hex') };
  }

  async putFile(key: string, file: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    try {
      await rename(file, this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      // Another filesystem: copy by streaming, then remove the original.
      await pipeline(createReadStream(file), createWriteStream(this.file(key), { mode: 0o600 }));
      await rm(file, { force: true });
    }
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    await stat(file); // ENOENT surfaces here rather than as a stream error
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.file(key))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async *list(): AsyncIterable<StoredEntry> {
    for (const { name, modifiedAt } of await filesIn(this.dir)) if (isMadeKey(name)) yield { key: name, modifiedAt };
  }

  async removeUnfinished(before: Date): Promise<number> {
    return removeFilesBefore(this.dir, before, (name) => name.endsWith(PARTIAL_SUFFIX) && isMadeKey(name.slice(0, -PARTIAL_SUFFIX.length)));
  }
}

/** The regular files directly in `dir` (none when it does not exist), with their modification times. */
export async function filesIn(dir: string): Promise<Array<{ name: string; modifiedAt: Date }>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: Array<{ name: string; modifiedAt: Date }> = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    // A file removed between the listing and its stat is simply gone.
    const info = await stat(path.join(dir, entry.name)).catch(() => undefined);
    if (info) files.push({ name: entry.name, modifiedAt: info.mtime });
  }
  return files;
}

/** Removes the files directly in `dir` that `matches` names and that were last written before `before`; returns how many. */
export async function removeFilesBefore(dir: string, before: Date, matches: (name: string) => boolean): Promise<number> {
  let removed = 0;
  for (const { name, modifiedAt } of await filesIn(dir)) {
    if (!matches(name) || modifiedAt.getTime() >= before.getTime()) continue;
    await rm(path.join(dir, name), { force: true });
    removed += 1;
  }
  return removed;
}
