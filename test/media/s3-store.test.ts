import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, integrationSummary, loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { mediaRoutes, PRESIGNED_URL_TTL_SECONDS } from '../../src/http/media-routes.js';
import { createMediaStore, LazyS3MediaStore } from '../../src/media/create-store.js';
import { S3MediaStore, type S3MediaStoreOptions } from '../../src/media/s3-store.js';
import type { MediaInfo } from '../../src/media/media.js';
import { MediaService } from '../../src/media/service.js';
import { MediaUrlSigner } from '../../src/media/signed-url.js';
import { LocalMediaStore, MediaTooLargeError } from '../../src/media/store.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { S3Simulator } from '../../src/simulators/s3.js';
import { runCli } from '../helpers/cli.js';
import { seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

const BUCKET = 'iqsp-media';
const MiB = 1024 * 1024;

let s3: S3Simulator;
/** The simulator's clock, moved by the presigned-URL expiry test. */
let clockOffsetMs = 0;
let tmp: string;
const stores: S3MediaStore[] = [];

beforeAll(async () => {
  s3 = await new S3Simulator({
    buckets: [BUCKET, 'other-bucket'],
    region: 'eu-west-1',
    now: () => new Date(Date.now() + clockOffsetMs),
  }).start();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'iqsp-s3-test-'));
});
afterAll(async () => {
  await s3.close();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  for (const store of stores.splice(0)) store.destroy();
  s3.faults.length = 0;
  s3.requests.length = 0;
  clockOffsetMs = 0;
});

function storeFor(options: Partial<S3MediaStoreOptions> = {}): S3MediaStore {
  const store = new S3MediaStore({
    bucket: BUCKET,
    region: s3.region,
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...options,
  });
  stores.push(store);
  return store;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `total` bytes of random data, generated a chunk at a time so the test never holds them either. */
function randomStream(total: number, chunk = 256 * 1024): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk, total - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

/** A file of random bytes, written through one reused buffer so making it does not itself grow memory. */
async function writeRandomFile(name: string, bytes: number): Promise<{ file: string; sha256: string }> {
  const file = path.join(tmp, name);
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(MiB);
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const n = Math.min(buffer.length, bytes - written);
      randomFillSync(buffer, 0, n);
      hash.update(buffer.subarray(0, n));
      await handle.write(buffer, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
  return { file, sha256: hash.digest('hex') };
}

/**
 * Runs `work` while sampling RSS every few milliseconds; the peak growth over the RSS before it,
 * in MiB. Young garbage is collected (a cheap minor GC) whenever Buffers, dead or alive, grow
 * 4 MiB past the start: left alone, V8 lets dead Buffers pile up to its external-memory
 * threshold (about 40 MB here, for 64 MB and 256 MB files alike) before collecting, which would
 * measure V8's patience rather than what the code holds. Live Buffers survive the collection
 * and still count in full (the control below shows it).
 */
async function peakRssGrowthMiB(work: () => Promise<unknown>): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
  gc();
  const start = process.memoryUsage();
  let peak = start.rss;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.rss);
    if (now.arrayBuffers - start.arrayBuffers > 4 * MiB) gc({ type: 'minor' });
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return (Math.max(peak, process.memoryUsage().rss) - start.rss) / MiB;
}

const operations = () => s3.requests.map((r) => r.operation);

// First in the file, while this test process's memory is still fresh.
describe('a 64 MB file', () => {
  it('goes up in parts and comes back with peak RSS growth well under its size', async () => {
    const store = storeFor();
    const { file, sha256 } = await writeRandomFile('large.bin', 64 * MiB);
    let downloaded = '';
    const growth = await peakRssGrowthMiB(async () => {
      await store.putFile('large-1', file);
      downloaded = await sha256Of(await store.open('large-1'));
    });
    expect(downloaded).toBe(sha256);
    expect(s3.object(BUCKET, 'large-1')).toMatchObject({ size: 64 * MiB, parts: 8 });
    expect(operations().filter((o) => o === 'UploadPart')).toHaveLength(8);
    expect(existsSync(file)).toBe(false);

    // The control: the same measurement sees a file read whole. Both ends (the SDK and the
    // simulator) run in this process, so the streamed figure above counts both. The control
    // file is twice as large: memory the process freed above is reused before RSS grows (a
    // 64 MiB read right after measured 32-38 MiB on a busy machine), which a 128 MiB read
    // cannot hide.
    const copy = await writeRandomFile('large-copy.bin', 128 * MiB);
    const whole = await peakRssGrowthMiB(() => readFile(copy.file));
    console.info(
      `64 MiB through S3: peak RSS growth ${growth.toFixed(1)} MiB streamed; 128 MiB read whole (control): ${whole.toFixed(1)} MiB`,
    );
    expect(whole).toBeGreaterThan(40);
    expect(growth).toBeLessThan(24);
  });
});

describe('S3MediaStore against the S3 simulator', () => {
  it('puts a stream, reads it back whole and in ranges, and reports its size', async () => {
    const store = storeFor({ prefix: 'iqsp/media/' });
    const bytes = randomBytes(100_000);
    const stored = await store.put('photo-1', Readable.from([bytes.subarray(0, 40_000), bytes.subarray(40_000)]), MiB);
    expect(stored).toEqual({ sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(s3.objectKeys(BUCKET)).toContain('iqsp/media/photo-1');
    expect(s3.objectKeys(BUCKET)).not.toContain('photo-1');

    expect(await readAll(await store.open('photo-1'))).toEqual(bytes);
    expect(await readAll(await store.open('photo-1', { start: 1, end: 4 }))).toEqual(bytes.subarray(1, 5));
    expect(await readAll(await store.open('photo-1', { start: 99_990, end: 99_999 }))).toEqual(bytes.subarray(99_990));
    expect(await store.size('photo-1')).toBe(bytes.length);
    expect(s3.requests.find((r) => r.operation === 'GetObject' && r.range === 'bytes=1-4')).toMatchObject({ status: 206, auth: 'header' });
    // One PutObject: what fits in a part is not a multipart upload.
    expect(operations().filter((o) => o === 'PutObject' || o === 'CreateMultipartUpload')).toEqual(['PutObject']);
  });

  it('moves a file in (removing it locally) and stores an empty file too', async () => {
    const store = storeFor();
    const { file, sha256 } = await writeRandomFile('small.bin', 300_000);
    await store.putFile('file-1', file);
    expect(existsSync(file)).toBe(false);
    expect(await store.size('file-1')).toBe(300_000);
    expect(await sha256Of(await store.open('file-1'))).toBe(sha256);

    const empty = path.join(tmp, 'empty.bin');
    writeFileSync(empty, '');
    await store.putFile('empty-1', empty);
    expect(await store.size('empty-1')).toBe(0);
    expect(await readAll(await store.open('empty-1'))).toEqual(Buffer.alloc(0));
  });

  it('answers undefined for the size of a missing key and ENOENT for opening it', async () => {
    const store = storeFor();
    expect(await store.size('never-stored')).toBeUndefined();
    await expect(store.open('never-stored')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('never-stored') });
  });

  it('deletes, and deleting again (or something never stored) is not an error', async () => {
    const store = storeFor();
    await store.put('gone-1', Readable.from([Buffer.from('bytes')]), 100);
    await store.delete('gone-1');
    await store.delete('gone-1');
    await store.delete('never-stored');
    expect(await store.size('gone-1')).toBeUndefined();
    expect(s3.objectKeys(BUCKET)).not.toContain('gone-1');
  });

  it('lists the objects under its prefix named as IQSP names them, page by page, and aborts only the open uploads begun before a time', async () => {
    const prefix = `listing-${randomUUID()}/`;
    const store = storeFor({ prefix, listPageSize: 2 });
    const keys = Array.from({ length: 5 }, () => randomUUID()).sort();
    for (const key of keys) await store.put(key, Readable.from([Buffer.from(key)]), 100);
    // Under the prefix but not a key IQSP makes, and outside the prefix: neither is listed.
    const client = new S3Client({
      region: s3.region,
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const cleanups: Array<() => Promise<unknown>> = [];
    try {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}notes.txt`, Body: 'x' }));
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${randomUUID()}`, Body: 'x' }));
      const listed: Array<{ key: string; modifiedAt: Date }> = [];
      for await (const entry of store.list()) listed.push(entry);
      expect(listed.map((e) => e.key)).toEqual(keys);
      for (const entry of listed) expect(Math.abs(entry.modifiedAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(operations().filter((o) => o === 'ListObjectsV2')).toHaveLength(3);

      const open = [];
      for (let i = 0; i < 3; i += 1)
        open.push((await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}${randomUUID()}` }))).UploadId);
      const foreign = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}notes.txt` }));
      cleanups.push(() =>
        client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}notes.txt`, UploadId: foreign.UploadId })),
      );
      const ours = () => s3.pendingUploads().filter((u) => u.key.startsWith(prefix));
      expect(await store.removeUnfinished(new Date(Date.now() - 60_000))).toBe(0);
      expect(ours()).toHaveLength(4);
      s3.requests.length = 0;
      expect(await store.removeUnfinished(new Date(Date.now() + 60_000))).toBe(3);
      expect(ours().map((u) => u.key)).toEqual([`${prefix}notes.txt`]);
      expect(operations().filter((o) => o === 'ListMultipartUploads')).toHaveLength(2);
      expect(open).toHaveLength(3);
    } finally {
      for (const cleanup of cleanups) await cleanup();
      client.destroy();
    }
  });

  it('refuses invalid keys before anything is sent', async () => {
    const store = storeFor();
    await expect(store.size('../etc/passwd')).rejects.toThrow(/invalid media key/);
    expect(s3.requests).toEqual([]);
  });

  it('sends a long stream in parts, buffering one part at a time', async () => {
    const store = storeFor({ partSizeBytes: 5 * MiB });
    const source = randomStream(12 * MiB);
    const hash = createHash('sha256');
    source.on('data', (c: Buffer) => hash.update(c));
    const stored = await store.put('video-1', source, 100 * MiB);
    expect(stored.sha256).toBe(hash.digest('hex'));
    expect(s3.object(BUCKET, 'video-1')).toMatchObject({ size: 12 * MiB, parts: 3 });
    expect(operations()).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
    expect(await sha256Of(await store.open('video-1'))).toBe(stored.sha256);
  });

  it('refuses a stream past maxBytes and keeps nothing, aborting the parts already sent', async () => {
    const store = storeFor({ partSizeBytes: 5 * MiB });
    await expect(store.put('big-1', randomStream(12 * MiB), 11 * MiB)).rejects.toBeInstanceOf(MediaTooLargeError);
    expect(operations()).toContain('AbortMultipartUpload');
    await expect(store.put('big-2', randomStream(2000), 1000)).rejects.toBeInstanceOf(MediaTooLargeError);
    expect(s3.pendingUploads()).toEqual([]);
    expect(s3.objectKeys(BUCKET).filter((k) => k.startsWith('big-'))).toEqual([]);
  });

  it('sends a failed part again from the file, and aborts the upload when it keeps failing', async () => {
    const store = storeFor({ partSizeBytes: 5 * MiB });
    const first = await writeRandomFile('retry.bin', 11 * MiB);
    s3.faults.push({ operation: 'UploadPart', status: 500, code: 'InternalError' });
    await store.putFile('retry-1', first.file);
    expect(operations().filter((o) => o === 'UploadPart')).toHaveLength(4);
    expect(await sha256Of(await store.open('retry-1'))).toBe(first.sha256);

    s3.requests.length = 0;
    const second = await writeRandomFile('fail.bin', 11 * MiB);
    s3.faults.push({ operation: 'UploadPart', status: 503, code: 'SlowDown', times: 10 });
    await expect(store.putFile('fail-1', second.file)).rejects.toMatchObject({ name: 'SlowDown' });
    expect(operations()).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'AbortMultipartUpload']);
    expect(s3.pendingUploads()).toEqual([]);
    expect(await store.size('fail-1')).toBeUndefined();
    expect(existsSync(second.file)).toBe(true); // not moved: the caller still owns it
  });

  it('fails cleanly when the file cannot be read, sending nothing more', async () => {
    const store = storeFor();
    const notAFile = mkdtempSync(path.join(tmp, 'dir-'));
    await expect(store.putFile('unreadable-1', notAFile)).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await store.size('unreadable-1')).toBeUndefined();
  });

  it('is refused with the wrong secret or an unknown access key', async () => {
    const wrongSecret = storeFor({ credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' } });
    await expect(wrongSecret.put('x-1', Readable.from([Buffer.from('x')]), 10)).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(wrongSecret.open('x-1')).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(wrongSecret.size('x-1')).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    const unknownKey = storeFor({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: s3.secretAccessKey } });
    await expect(unknownKey.open('x-1')).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    expect(s3.objectKeys(BUCKET)).not.toContain('x-1');
  });

  it('reports a missing bucket as NoSuchBucket, not as a missing key', async () => {
    const store = storeFor({ bucket: 'no-such-bucket' });
    await expect(store.open('a-1')).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await expect(store.put('a-1', Readable.from([Buffer.from('x')]), 10)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('makes presigned GET URLs that serve bytes and ranges with the given type, until they expire', async () => {
    const store = storeFor({ presignedRedirect: true });
    const bytes = randomBytes(5000);
    await store.put('signed-1', Readable.from([bytes]), MiB);
    const url = await store.presignedUrl!('signed-1', { ttlSeconds: 60, contentType: 'image/png' });
    expect(url.startsWith(`${s3.url}/${BUCKET}/signed-1?`)).toBe(true);
    expect(url).not.toContain(s3.secretAccessKey);

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
    const part = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));

    const tampered = await fetch(url.replace('response-content-type=image%2Fpng', 'response-content-type=text%2Fhtml'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    clockOffsetMs = 61_000;
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired/);
    expect(new S3MediaStore({ bucket: BUCKET, region: 'us-east-1' }).presignedUrl).toBeUndefined();
  });
});

describe('the S3 simulator checks what S3 checks', () => {
  const client = () =>
    new S3Client({
      region: s3.region,
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });

  it('refuses unsigned requests, wrong checksums and wrong Content-MD5', async () => {
    const anonymous = await fetch(`${s3.url}/${BUCKET}/anything`);
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get('content-type')).toBe('application/xml');
    expect(await anonymous.text()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code>/);

    const sdk = client();
    try {
      await expect(
        sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-1', Body: Buffer.from('hello'), ChecksumCRC32: 'AAAAAA==' })),
      ).rejects.toMatchObject({ name: 'BadDigest' });
      await expect(
        sdk.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: 'bad-1',
            Body: Buffer.from('hello'),
            ContentMD5: Buffer.alloc(16).toString('base64'),
          }),
        ),
      ).rejects.toMatchObject({ name: 'BadDigest' });
      await expect(
        sdk.send(new PutObjectCommand({ Bucket: 'missing-bucket', Key: 'bad-1', Body: Buffer.from('hello') })),
      ).rejects.toMatchObject({ name: 'NoSuchBucket' });
    } finally {
      sdk.destroy();
    }
    expect(s3.objectKeys(BUCKET)).not.toContain('bad-1');
  });

  it('refuses a multipart upload whose parts are too small', async () => {
    const tiny = new S3Simulator({ minPartBytes: 10 * MiB });
    await tiny.start();
    try {
      const tinyStore = storeFor({
        partSizeBytes: 5 * MiB,
        endpoint: tiny.url,
        region: tiny.region,
        credentials: { accessKeyId: tiny.accessKeyId, secretAccessKey: tiny.secretAccessKey },
      });
      const { file } = await writeRandomFile('small-parts.bin', 11 * MiB);
      await expect(tinyStore.putFile('parts-1', file)).rejects.toMatchObject({ name: 'EntityTooSmall' });
      expect(tiny.pendingUploads()).toEqual([]);
    } finally {
      await tiny.close();
    }
  });
});

describe('configuration', () => {
  const errorOf = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig(env, '/srv/iqsp');
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('keeps media in the local folder by default', async () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.mediaStore).toEqual({ kind: 'local' });
    expect(await createMediaStore(config)).toBeInstanceOf(LocalMediaStore);
    expect(integrationSummary(config).media).toBe('local folder /srv/iqsp/data/media');
  });

  it('reads MEDIA_STORE=s3 and the S3 variables', () => {
    const config = loadConfig({
      MEDIA_STORE: 'S3',
      S3_BUCKET: 'acme-iqsp',
      S3_REGION: 'eu-west-1',
      S3_ENDPOINT: 'https://minio.acme.internal:9000/',
      S3_ACCESS_KEY_ID: 'AKIA1',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_PREFIX: 'iqsp/',
      S3_PRESIGNED_REDIRECT: 'true',
    });
    expect(config.mediaStore).toEqual({
      kind: 's3',
      bucket: 'acme-iqsp',
      region: 'eu-west-1',
      endpoint: 'https://minio.acme.internal:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secret' },
      prefix: 'iqsp/',
      presignedRedirect: true,
    });
    expect(integrationSummary(config).media).toBe(
      's3://acme-iqsp/iqsp/ at https://minio.acme.internal:9000, served by presigned redirects',
    );
    expect(JSON.stringify(integrationSummary(config))).not.toContain('secret');
  });

  it('uses AWS S3 with virtual-hosted addressing and the default credential chain when only bucket and region are set', () => {
    const config = loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'acme-iqsp', S3_REGION: 'us-east-2' });
    expect(config.mediaStore).toMatchObject({
      endpoint: undefined,
      forcePathStyle: false,
      credentials: undefined,
      prefix: '',
      presignedRedirect: false,
    });
    expect(
      loadConfig({
        MEDIA_STORE: 's3',
        S3_BUCKET: 'b-1',
        S3_REGION: 'auto',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_FORCE_PATH_STYLE: 'false',
      }).mediaStore,
    ).toMatchObject({
      forcePathStyle: false,
    });
  });

  it.each([
    [{ MEDIA_STORE: 'ftp' }, 'MEDIA_STORE', /must be local or s3/],
    [{ S3_BUCKET: 'acme-iqsp', S3_REGION: 'eu-west-1' }, 'MEDIA_STORE', /set MEDIA_STORE=s3/],
    [{ MEDIA_STORE: 's3' }, 'S3_BUCKET', /must be set when MEDIA_STORE=s3/],
    [{ MEDIA_STORE: 's3', S3_BUCKET: 'acme-iqsp' }, 'S3_REGION', /must be set when MEDIA_STORE=s3/],
    [{ MEDIA_STORE: 's3', S3_BUCKET: 's3://acme-iqsp', S3_REGION: 'eu-west-1' }, 'S3_BUCKET', /bucket name.*not a URL/],
    [{ MEDIA_STORE: 's3', S3_BUCKET: 'acme', S3_REGION: 'eu west' }, 'S3_REGION', /region name/],
    [{ S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT', /http\(s\) URL/],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE', /true or false/],
    [{ S3_PRESIGNED_REDIRECT: '1' }, 'S3_PRESIGNED_REDIRECT', /true or false/],
    [{ S3_PREFIX: '/media' }, 'S3_PREFIX', /not starting with "\/"/],
    [
      { MEDIA_STORE: 's3', S3_BUCKET: 'acme', S3_REGION: 'eu-west-1', S3_ACCESS_KEY_ID: 'AKIA1' },
      'S3_SECRET_ACCESS_KEY',
      /must be set when S3_ACCESS_KEY_ID is set/,
    ],
    [{ S3_SECRET_ACCESS_KEY: 'secret' }, 'S3_ACCESS_KEY_ID', /must be set when S3_SECRET_ACCESS_KEY is set/],
  ])('refuses %o naming %s', (env, variable, problem) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain('secret');
  });

  it('stops the CLI with exit 2 and one line naming the variable', async () => {
    const result = await runCli(['migrate'], {
      cwd: mkdtempSync(path.join(os.tmpdir(), 'iqsp-cli-')),
      env: { MEDIA_STORE: 's3', S3_REGION: 'eu-west-1' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^iqsp: S3_BUCKET: must be set when MEDIA_STORE=s3/);
  });

  it('builds an S3 store from the configuration that works against the simulator (made at its first use)', async () => {
    const store = await createMediaStore(loadConfig({ ...s3.env(), S3_PREFIX: 'configured/' }));
    expect(store).toBeInstanceOf(LazyS3MediaStore);
    const made = await (store as LazyS3MediaStore).store();
    expect(made).toBeInstanceOf(S3MediaStore);
    stores.push(made as S3MediaStore);
    await store.put('configured-1', Readable.from([Buffer.from('from the configuration')]), 100);
    expect(s3.objectKeys(BUCKET)).toContain('configured/configured-1');
    expect((await readAll(await store.open('configured-1'))).toString()).toBe('from the configuration');
  });
});

describe('GET|HEAD /media/:token served from S3', () => {
  let png: Buffer;
  let files: Server;
  let filesHost: string;
  let t: TestDatabase;
  let server: Server;
  let base: string;
  const signer = new MediaUrlSigner(Buffer.alloc(32, 9));

  beforeAll(async () => {
    png = await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
      .png()
      .toBuffer();
    files = createServer((req, res) => {
      if (req.url === '/photo.png') return res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesHost = `127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => files.close(() => r())));
  beforeEach(async () => {
    t = await testDatabase();
  });
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await t.close();
  });

  async function serve(store: S3MediaStore): Promise<MediaService> {
    const media = new MediaService({
      db: t.db,
      store,
      signer,
      publicUrl: 'https://iqsp.example.com',
      incomingDir: path.join(t.dir, 'incoming'),
      mediaTtlHours: 24,
      maxBytes: 512 * 1024,
      allowedHosts: [filesHost],
    });
    const app = createHttpApp({
      db: t.db,
      logger: createLogger('silent'),
      metrics: createMetrics(),
      routes: [mediaRoutes({ media, store, signer })],
    });
    server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return media;
  }

  async function intake(media: MediaService): Promise<{ info: MediaInfo; id: string; url: string }> {
    const owner = await seedAccount(t.db, 'x');
    const info = await media.intake(
      { url: `http://${filesHost}/photo.png`, originalName: 'photo.png' },
      { workspaceId: owner.workspaceId, uploadedById: owner.userId },
    );
    return { info, id: info.id, url: base + new URL(await media.publicUrl(info)).pathname };
  }

  it('streams the bytes from the bucket, with ranges and HEAD, and 404 once the object is gone', async () => {
    const store = storeFor();
    const media = await serve(store);
    const { info, id, url } = await intake(media);
    expect(s3.objectKeys(BUCKET)).toContain(id);

    const full = await fetch(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await full.arrayBuffer())).toEqual(png);

    const part = await fetch(url, { headers: { range: 'bytes=1-4' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1-4/${png.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(png.subarray(1, 5));
    expect(s3.requests.some((r) => r.operation === 'GetObject' && r.range === 'bytes=1-4')).toBe(true);

    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(png.subarray(png.length - 10));
    expect((await fetch(url, { headers: { range: `bytes=${png.length}-` } })).status).toBe(416);

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.length));

    // A JPEG copy reads the original from the bucket and stores the copy beside it.
    const jpeg = await media.jpegCopy(info);
    expect(s3.objectKeys(BUCKET)).toContain(jpeg.id);

    await store.delete(id);
    expect((await fetch(url)).status).toBe(404);
  });

  it('redirects to a short-lived presigned URL when configured, which serves the bytes and ranges', async () => {
    const store = storeFor({ presignedRedirect: true });
    const media = await serve(store);
    const { id, url } = await intake(media);

    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${s3.url}/${BUCKET}/${id}?`)).toBe(true);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe(String(PRESIGNED_URL_TTL_SECONDS));
    expect(redirect.headers.get('cache-control')).toBe('private, no-store');

    const followed = await fetch(url);
    expect(followed.status).toBe(200);
    expect(followed.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await followed.arrayBuffer())).toEqual(png);
    const part = await fetch(url, { headers: { range: 'bytes=0-2' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(png.subarray(0, 3));
    expect(s3.requests.filter((r) => r.operation === 'GetObject').every((r) => r.auth === 'query')).toBe(true);

    expect((await fetch(url, { method: 'HEAD', redirect: 'manual' })).status).toBe(302);
    expect((await fetch(`${base}/media/${signer.sign(id, new Date(Date.now() - 1000))}`, { redirect: 'manual' })).status).toBe(404);
    await store.delete(id);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(404);
  });
});
