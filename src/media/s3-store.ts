/**
 * Media in an S3 bucket (AWS S3, or an S3-compatible service such as MinIO, Ceph or R2), so
 * several IQSP instances share one store. Bytes are streamed both ways: uploads go up as a
 * single PutObject when they fit in one part, otherwise as a multipart upload whose parts are
 * read one at a time (from the file, or buffered one part at a time from a stream), so memory
 * stays near one part whatever the file size; a failed multipart upload is aborted, leaving no
 * parts behind. Reads are GetObject streams, with `Range` passed through.
 *
 * Why the multipart upload is written here instead of using `@aws-sdk/lib-storage`'s `Upload`
 * (issue 14 measured both with bench/s3-upload.mjs: 1 GiB to the S3 simulator, 8 MiB parts,
 * peak growth over the start with young garbage collected, as the 64 MB test below measures):
 * - `Upload` reads every body into part-sized Buffers. `putFile` (what media intake uses)
 *   streams each part from its slice of the file and holds none: 21 MiB RSS, 6 MiB of Buffers,
 *   against 49 MiB and 40 MiB for `Upload` with queueSize 1 (74 and 72 with its default 4).
 *   With `Upload`, the test's bound (64 MiB up and back under 24 MiB) failed at 51 MiB.
 * - For a stream both hold parts; `Upload` holds up to one more (it copies a part's chunks
 *   into one Buffer, and the rest's view keeps the previous one alive): 41 against 33 MiB of
 *   Buffers at queueSize 1 (49 and 48 MiB RSS), 105 MiB of Buffers at queueSize 4.
 * - It sends `x-amz-checksum-algorithm: CRC32` on CreateMultipartUpload, which this code does
 *   not, and when the abort after a failure itself fails it throws the abort's error, not the
 *   upload's (a MediaTooLargeError would be lost).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from '../observability/logger.js';
import type { ByteRange } from './media.js';
import { assertMediaKey, isMadeKey, MediaTooLargeError, type MediaStore, type StoredEntry, type StoredObject } from './store.js';

export interface S3MediaStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible service's URL; AWS S3 itself when undefined. */
  endpoint?: string | undefined;
  /** `http://host/bucket/key` instead of `http://bucket.host/key` (most self-hosted services need it). */
  forcePathStyle?: boolean | undefined;
  /** Static keys; the SDK's default credential chain (environment, profile, instance role) when undefined. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Prepended to every key, e.g. `iqsp/media/`. */
  prefix?: string | undefined;
  /** Offer `presignedUrl`, so `GET /media/:token` redirects to the bucket instead of streaming through IQSP. */
  presignedRedirect?: boolean | undefined;
  /** Bytes per multipart part (S3's minimum is 5 MiB); files up to this size go up in one PutObject. */
  partSizeBytes?: number | undefined;
  /** Tries per part (or single upload) streamed from a file, on errors worth retrying: the SDK cannot replay a stream itself. */
  attempts?: number | undefined;
  /** Where the SDK's own warnings go (never the console); silent when undefined. */
  logger?: Pick<Logger, 'warn'> | undefined;
  /** Keys or uploads asked for per listing request (S3's most, 1000, by default; tests page with fewer). */
  listPageSize?: number | undefined;
}

/** S3's smallest part (all but the last), and its most parts per upload. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/** A part's bytes: a buffer (the SDK can resend it), or a way to open a fresh stream of them (we resend it). */
type PartBody = Buffer | (() => Readable);

export class S3MediaStore implements MediaStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly attempts: number;
  private readonly listPageSize: number;
  /** Present only when configured: its presence is what makes the media route redirect. */
  readonly presignedUrl?: (key: string, options: { ttlSeconds: number; contentType: string }) => Promise<string>;

  constructor(options: S3MediaStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_BYTES;
    if (this.partSize < MIN_PART_BYTES) throw new Error(`an S3 part is at least ${MIN_PART_BYTES} bytes (got ${this.partSize})`);
    this.attempts = options.attempts ?? 3;
    this.listPageSize = options.listPageSize ?? 1000;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      logger: sdkLogger(options.logger),
    });
    if (options.presignedRedirect) {
      this.presignedUrl = (key, { ttlSeconds, contentType }) =>
        getSignedUrl(
          this.client,
          new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ResponseContentType: contentType }),
          {
            expiresIn: ttlSeconds,
          },
        );
    }
  }

  /** Closes the SDK's pooled connections. */
  destroy(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertMediaKey(key);
    return this.prefix + key;
  }

  async put(key: string, source: Readable, maxBytes: number): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const hash = createHash('sha256');
    let size = 0;
    // One part is buffered at a time: a stream of unknown length cannot go up as one PutObject.
    let part = Buffer.allocUnsafe(this.partSize);
    let filled = 0;
    let upload: MultipartUpload | undefined;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw new MediaTooLargeError(maxBytes);
        hash.update(chunk);
        for (let offset = 0; offset < chunk.length;) {
          const copied = chunk.copy(part, filled, offset);
          filled += copied;
          offset += copied;
          if (filled === this.partSize) {
            upload ??= await this.startMultipart(objectKey);
            await upload.send(part, filled);
            part = Buffer.allocUnsafe(this.partSize);
            filled = 0;
          }
        }
      }
      if (upload) {
        if (filled > 0) await upload.send(part.subarray(0, filled), filled);
        await upload.complete();
      } else {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: part.subarray(0, filled), ContentLength: filled }),
        );
      }
    } catch (error) {
      source.destroy();
      await upload?.abort();
      throw error;
    }
    return { sizeBytes: size, sha256: hash.digest('hex') };
  }

  async putFile(key: string, file: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const { size } = await stat(file);
    // Each attempt at a part reads its slice of the file afresh.
    const slice = (start: number, end: number) => () => createReadStream(file, { start, end });
    // More than MAX_PARTS parts is not allowed: very large files get larger parts.
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    if (size <= partSize) {
      const body: PartBody = size === 0 ? Buffer.alloc(0) : slice(0, size - 1);
      await this.withRetries(body, (Body, abortSignal) =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body, ContentLength: size }), { abortSignal }),
      );
    } else {
      const upload = await this.startMultipart(objectKey);
      try {
        for (let start = 0; start < size; start += partSize) {
          const end = Math.min(start + partSize, size) - 1;
          await upload.send(slice(start, end), end - start + 1);
        }
        await upload.complete();
      } catch (error) {
        await upload.abort();
        throw error;
      }
    }
    await rm(file, { force: true });
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no readable body for media "${key}"`);
      return object.Body;
    } catch (error) {
      if (errorName(error) === 'NoSuchKey')
        throw Object.assign(new Error(`media "${key}" is not in bucket "${this.bucket}"`), { code: 'ENOENT', cause: error });
      throw error;
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      // HEAD answers carry no error body: a missing key is a bare 404, which the SDK names NotFound.
      if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      // S3 answers 204 for a missing key; a few compatible services answer NoSuchKey.
      if (errorName(error) !== 'NoSuchKey') throw error;
    }
  }

  /** The objects under the prefix whose key IQSP could have made, page by page. */
  async *list(): AsyncIterable<StoredEntry> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          MaxKeys: this.listPageSize,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.prefix.length);
        if (key !== undefined && object.Key!.startsWith(this.prefix) && isMadeKey(key) && object.LastModified)
          yield { key, modifiedAt: object.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Aborts multipart uploads a crash left open (their parts are stored, and billed, until
   * then) that began before `before`. A bucket lifecycle rule
   * (`AbortIncompleteMultipartUpload`) does the same on AWS; this covers services without one.
   */
  async removeUnfinished(before: Date): Promise<number> {
    const stale: Array<{ key: string; uploadId: string }> = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.prefix,
          MaxUploads: this.listPageSize,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        const key = upload.Key?.slice(this.prefix.length);
        if (key === undefined || !upload.Key!.startsWith(this.prefix) || !isMadeKey(key) || !upload.UploadId || !upload.Initiated) continue;
        if (upload.Initiated.getTime() < before.getTime()) stale.push({ key: upload.Key!, uploadId: upload.UploadId });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    let removed = 0;
    for (const { key, uploadId } of stale) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
        removed += 1;
      } catch (error) {
        // Completed or aborted meanwhile: nothing is left to remove.
        if (errorName(error) !== 'NoSuchUpload') throw error;
      }
    }
    return removed;
  }

  /** Starts a multipart upload; its parts are then sent one at a time, in order. */
  private async startMultipart(key: string): Promise<MultipartUpload> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`S3 started a multipart upload of "${key}" without an upload id`);
    const parts: CompletedPart[] = [];
    return {
      send: async (body, length) => {
        const partNumber = parts.length + 1;
        if (partNumber > MAX_PARTS) throw new Error(`"${key}" needs more than ${MAX_PARTS} parts`);
        const out = await this.withRetries(body, (Body, abortSignal) =>
          this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body,
              ContentLength: length,
            }),
            {
              abortSignal,
            },
          ),
        );
        if (!out.ETag) throw new Error(`S3 answered part ${partNumber} of "${key}" without an ETag`);
        // The part's checksum (the SDK sends CRC32 by default) goes back in CompleteMultipartUpload.
        parts.push({
          PartNumber: partNumber,
          ETag: out.ETag,
          ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
          ...(out.ChecksumCRC32C ? { ChecksumCRC32C: out.ChecksumCRC32C } : {}),
          ...(out.ChecksumSHA1 ? { ChecksumSHA1: out.ChecksumSHA1 } : {}),
          ...(out.ChecksumSHA256 ? { ChecksumSHA256: out.ChecksumSHA256 } : {}),
        });
      },
      complete: async () => {
        await this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        );
      },
      // Best effort: the original failure is what the caller reports; a bucket lifecycle rule catches what this misses.
      abort: async () => {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
      },
    };
  }

  /**
   * Sends `body`, trying again on server errors and dropped connections when it is a stream:
   * the SDK retries requests itself, but not ones whose body is a stream it has consumed.
   */
  private async withRetries<T>(body: PartBody, send: (body: Buffer | Readable, abortSignal?: AbortSignal) => Promise<T>): Promise<T> {
    if (Buffer.isBuffer(body)) return send(body);
    for (let attempt = 1; ; attempt += 1) {
      // The SDK wraps the body in streams with no error listener, so a read error inside them
      // would be an uncaught exception: the SDK gets a relay that never fails, and a failed read
      // aborts the request instead.
      const source = body();
      const relay = new PassThrough();
      const abort = new AbortController();
      let readError: Error | undefined;
      source.once('error', (error: Error) => {
        readError = error;
        abort.abort(error);
      });
      source.pipe(relay);
      try {
        return await send(relay, abort.signal);
      } catch (error) {
        source.destroy();
        relay.destroy();
        if (readError !== undefined) throw readError;
        if (attempt >= this.attempts || !worthRetrying(error)) throw error;
        await sleep(100 * 2 ** attempt);
      }
    }
  }
}

interface MultipartUpload {
  send(body: PartBody, length: number): Promise<void>;
  complete(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * The SDK logs every call at info level and every failure at error level (the failure is thrown
 * to the caller anyway); only its warnings are passed on.
 */
function sdkLogger(logger: Pick<Logger, 'warn'> | undefined) {
  const ignore = () => undefined;
  const warn = (...content: unknown[]) =>
    logger?.warn({ s3: content.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join(' ') }, 'S3 client warning');
  return { trace: ignore, debug: ignore, info: ignore, warn, error: ignore };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** 5xx, 429 and errors without any answer (a dropped connection) are worth another try; other 4xx are not. */
function worthRetrying(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined) return true;
  return status >= 500 || status === 429;
}
