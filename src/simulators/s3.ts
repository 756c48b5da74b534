/**
 * A local S3-compatible server for tests and development: a real HTTP server on 127.0.0.1 that
 * speaks the S3 REST API as the AWS SDK uses it for media, with path-style addressing
 * (`http://127.0.0.1:PORT/BUCKET/KEY`).
 *
 * Operations: PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, GetObject (with `Range`, and the `response-*` overrides of presigned
 * URLs), HeadObject, DeleteObject, HeadBucket, ListObjectsV2 and ListMultipartUploads (by
 * prefix, paged). Every request is authenticated with SigV4 (header
 * or presigned query) against the configured keys (s3-auth.ts). Bodies are streamed to files,
 * never held in memory, and checked as S3 checks them: declared length, `x-amz-content-sha256`,
 * `Content-MD5`, CRC32/SHA-256 checksums in headers or aws-chunked trailers (s3-body.ts).
 * Errors are S3's XML shapes (`NoSuchKey`, `NoSuchBucket`, `NoSuchUpload`, `AccessDenied`,
 * `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `InvalidRange`, `InvalidPart`, `EntityTooSmall`, …).
 *
 * ```ts
 * const s3 = await new S3Simulator().start();
 * const config = loadConfig({ ...s3.env(), PUBLIC_URL });   // MEDIA_STORE=s3, S3_BUCKET, S3_ENDPOINT, keys
 * s3.faults.push({ operation: 'UploadPart', status: 500, code: 'InternalError' });
 * s3.objectKeys('iqsp-media'); s3.pendingUploads(); s3.requests;
 * await s3.close();
 * ```
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { authenticate, parseQuery, STREAMING_UNSIGNED_TRAILER, type S3Error } from './s3-auth.js';
import { AwsChunkedError, receiveObject, type ReceivedObject } from './s3-body.js';

export type S3Operation =
  | 'PutObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'HeadBucket'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'Unsupported';

/** Answers `status` with S3 error `code` instead of running `operation`, `times` times (default 1), after authentication. */
export interface S3Fault {
  operation: S3Operation;
  status: number;
  code: string;
  message?: string;
  times?: number;
}

export interface S3RequestRecord {
  operation: S3Operation;
  method: string;
  bucket?: string | undefined;
  key?: string | undefined;
  auth: 'header' | 'query' | 'none';
  range?: string | undefined;
  /** Decoded body bytes received (PutObject, UploadPart). */
  bytes?: number | undefined;
  status?: number | undefined;
  /** The S3 error code answered, if any. */
  error?: string | undefined;
}

export interface S3SimulatorOptions {
  region?: string;
  /** Buckets that exist from the start. Default: `iqsp-media`. */
  buckets?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Where object bytes are kept. Default: a fresh temporary folder, removed by `close()`. */
  dir?: string;
  /** Smallest part allowed except the last (S3: 5 MiB). */
  minPartBytes?: number;
  now?: () => Date;
}

interface StoredObject {
  file: string;
  size: number;
  etag: string;
  contentType: string;
  lastModified: Date;
  /** Full-object checksum sent with a single PUT (multipart objects have none here). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  parts?: number | undefined;
}

interface StoredPart {
  file: string;
  size: number;
  md5: Buffer;
  etag: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

interface Upload {
  bucket: string;
  key: string;
  contentType: string;
  initiated: Date;
  parts: Map<number, StoredPart>;
}

type ChecksumAlgorithm = 'crc32' | 'sha256';

type Route = { operation: S3Operation; bucket?: string | undefined; key?: string | undefined; query: Map<string, string> };

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_OBJECT_BYTES = 5 * 1024 ** 3;
const MAX_XML_BYTES = 1024 * 1024;
/** S3 answers at most this many keys or uploads per listing page. */
const MAX_LIST = 1000;
const CHECKSUM_HEADERS: Record<string, ChecksumAlgorithm | 'unsupported'> = {
  'x-amz-checksum-crc32': 'crc32',
  'x-amz-checksum-sha256': 'sha256',
  'x-amz-checksum-crc32c': 'unsupported',
  'x-amz-checksum-crc64nvme': 'unsupported',
  'x-amz-checksum-sha1': 'unsupported',
};

class Refusal extends Error {
  constructor(readonly error: S3Error & { extra?: Record<string, string> }) {
    super(error.message);
  }
}
const refusal = (status: number, code: string, message: string, extra?: Record<string, string>) =>
  new Refusal({ status, code, message, ...(extra ? { extra } : {}) });

export class S3Simulator {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly requests: S3RequestRecord[] = [];
  readonly faults: S3Fault[] = [];
  url = '';
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly uploads = new Map<string, Upload>();
  private readonly keys: Map<string, string>;
  private readonly minPartBytes: number;
  private readonly now: () => Date;
  private server: Server | undefined;
  private dir = '';
  private ownsDir = false;

  constructor(private readonly options: S3SimulatorOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accessKeyId = options.accessKeyId ?? 'AKIAIQSPSIMULATOR000';
    this.secretAccessKey = options.secretAccessKey ?? randomBytes(30).toString('base64');
    this.keys = new Map([[this.accessKeyId, this.secretAccessKey]]);
    this.minPartBytes = options.minPartBytes ?? 5 * 1024 * 1024;
    this.now = options.now ?? (() => new Date());
    for (const bucket of options.buckets ?? ['iqsp-media']) this.createBucket(bucket);
  }

  async start(): Promise<this> {
    this.ownsDir = this.options.dir === undefined;
    this.dir = this.options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'iqsp-s3-')));
    for (const sub of ['objects', 'uploads', 'tmp']) await mkdir(path.join(this.dir, sub), { recursive: true });
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.ownsDir && this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** The IQSP configuration that points the media store at this server. */
  env(bucket: string = [...this.buckets.keys()][0] ?? 'iqsp-media'): Record<string, string> {
    return {
      MEDIA_STORE: 's3',
      S3_BUCKET: bucket,
      S3_REGION: this.region,
      S3_ENDPOINT: this.url,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: this.accessKeyId,
      S3_SECRET_ACCESS_KEY: this.secretAccessKey,
    };
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  objectKeys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  object(bucket: string, key: string): { size: number; etag: string; contentType: string; parts?: number | undefined } | undefined {
    const found = this.buckets.get(bucket)?.get(key);
    return found && { size: found.size, etag: found.etag, contentType: found.contentType, parts: found.parts };
  }

  /** Multipart uploads created and neither completed nor aborted. */
  pendingUploads(): Array<{ uploadId: string; bucket: string; key: string; parts: number }> {
    return [...this.uploads].map(([uploadId, u]) => ({ uploadId, bucket: u.bucket, key: u.key, parts: u.parts.size }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    const route = this.route(req);
    const record: S3RequestRecord = {
      operation: route.operation,
      method: req.method ?? '',
      bucket: route.bucket,
      key: route.key,
      auth: 'none',
      range: header(req, 'range'),
    };
    this.requests.push(record);
    try {
      const auth = authenticate(
        { method: req.method ?? '', url: req.url ?? '/', headers: req.headers },
        { region: this.region, keys: this.keys, now: this.now() },
      );
      if (!auth.ok) throw new Refusal(auth);
      record.auth = auth.via;
      const fault = this.takeFault(route.operation);
      if (fault) throw refusal(fault.status, fault.code, fault.message ?? 'We encountered an internal error. Please try again.');
      await this.run(route, auth.payloadHash, req, res, record);
    } catch (error) {
      const refused =
        error instanceof Refusal
          ? error.error
          : error instanceof AwsChunkedError
            ? { status: 400, code: 'IncompleteBody', message: error.message }
            : { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
      record.error = refused.code;
      if (!res.headersSent) this.sendError(req, res, requestId, route, refused);
      else res.destroy();
    } finally {
      record.status = res.statusCode;
    }
  }

  private route(req: IncomingMessage): Route {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = new Map(parseQuery(queryAt < 0 ? '' : url.slice(queryAt + 1)));
    const slash = rawPath.indexOf('/', 1);
    const bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash)) || undefined;
    const key = slash < 0 ? undefined : decode(rawPath.slice(slash + 1)) || undefined;
    const method = req.method ?? '';
    const op = (operation: S3Operation): Route => ({ operation, bucket, key, query });
    if (!bucket) return op('Unsupported');
    if (!key) {
      if (method === 'HEAD') return op('HeadBucket');
      if (method === 'GET' && query.has('uploads')) return op('ListMultipartUploads');
      if (method === 'GET' && query.get('list-type') === '2') return op('ListObjectsV2');
      return op('Unsupported');
    }
    if (req.headers['x-amz-copy-source'] !== undefined) return op('Unsupported');
    if (method === 'PUT') return op(query.has('uploadId') || query.has('partNumber') ? 'UploadPart' : 'PutObject');
    if (method === 'POST' && query.has('uploads')) return op('CreateMultipartUpload');
    if (method === 'POST' && query.has('uploadId')) return op('CompleteMultipartUpload');
    if (method === 'DELETE') return op(query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject');
    if (method === 'GET') return op('GetObject');
    if (method === 'HEAD') return op('HeadObject');
    return op('Unsupported');
  }

  private takeFault(operation: S3Operation): S3Fault | undefined {
    const index = this.faults.findIndex((f) => f.operation === operation);
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    const times = (fault.times ?? 1) - 1;
    if (times <= 0) this.faults.splice(index, 1);
    else fault.times = times;
    return fault;
  }

  private async run(route: Route, payloadHash: string, req: IncomingMessage, res: ServerResponse, record: S3RequestRecord): Promise<void> {
    if (route.operation === 'Unsupported')
      throw refusal(
        501,
        'NotImplemented',
        'A header or query you provided implies functionality that is not implemented in this S3 simulator.',
      );
    const bucketName = route.bucket!;
    const bucket = this.buckets.get(bucketName);
    if (!bucket) throw refusal(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName });
    const key = route.key ?? '';

    switch (route.operation) {
      case 'HeadBucket':
        res.writeHead(200, { 'x-amz-bucket-region': this.region }).end();
        return;
      case 'ListObjectsV2':
        this.sendXml(res, 200, this.listObjects(bucketName, bucket, route.query));
        return;
      case 'ListMultipartUploads':
        this.sendXml(res, 200, this.listUploads(bucketName, route.query));
        return;
      case 'PutObject': {
        const received = await this.receive(req, payloadHash, record);
        const previous = bucket.get(key);
        const file = path.join(this.dir, 'objects', randomUUID());
        await rename(received.file, file);
        bucket.set(key, {
          file,
          size: received.got.size,
          etag: `"${received.got.md5.toString('hex')}"`,
          contentType: header(req, 'content-type') ?? 'binary/octet-stream',
          lastModified: this.now(),
          checksum: received.checksum,
        });
        if (previous) await rm(previous.file, { force: true });
        res.writeHead(200, { etag: bucket.get(key)!.etag, ...checksumHeader(received.checksum) }).end();
        return;
      }
      case 'CreateMultipartUpload': {
        const uploadId = randomBytes(24).toString('base64url');
        this.uploads.set(uploadId, {
          bucket: bucketName,
          key,
          contentType: header(req, 'content-type') ?? 'binary/octet-stream',
          initiated: this.now(),
          parts: new Map(),
        });
        this.sendXml(
          res,
          200,
          `<InitiateMultipartUploadResult xmlns="${XMLNS}"><Bucket>${xml(bucketName)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        );
        return;
      }
      case 'UploadPart': {
        const upload = this.upload(route, bucketName, key);
        const partNumber = Number(route.query.get('partNumber'));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000)
          throw refusal(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
        const received = await this.receive(req, payloadHash, record);
        const file = path.join(this.dir, 'uploads', randomUUID());
        await rename(received.file, file);
        const previous = upload.parts.get(partNumber);
        const part: StoredPart = {
          file,
          size: received.got.size,
          md5: received.got.md5,
          etag: `"${received.got.md5.toString('hex')}"`,
          checksum: received.checksum,
        };
        upload.parts.set(partNumber, part);
        if (previous) await rm(previous.file, { force: true });
        res.writeHead(200, { etag: part.etag, ...checksumHeader(part.checksum) }).end();
        return;
      }
      case 'CompleteMultipartUpload': {
        const upload = this.upload(route, bucketName, key);
        const wanted = parseCompleteBody(await readXml(req, payloadHash));
        const parts = this.checkParts(upload, wanted);
        const file = path.join(this.dir, 'objects', randomUUID());
        await pipeline(
          async function* () {
            for (const part of parts) yield* createReadStream(part.file);
          },
          createWriteStream(file, { mode: 0o600 }),
        );
        const etag = `"${createHash('md5')
          .update(Buffer.concat(parts.map((p) => p.md5)))
          .digest('hex')}-${parts.length}"`;
        const previous = bucket.get(key);
        bucket.set(key, {
          file,
          size: parts.reduce((n, p) => n + p.size, 0),
          etag,
          contentType: upload.contentType,
          lastModified: this.now(),
          parts: parts.length,
        });
        this.uploads.delete(route.query.get('uploadId')!);
        for (const part of upload.parts.values()) await rm(part.file, { force: true });
        if (previous) await rm(previous.file, { force: true });
        this.sendXml(
          res,
          200,
          `<CompleteMultipartUploadResult xmlns="${XMLNS}"><Location>${xml(`${this.url}/${bucketName}/${key}`)}</Location><Bucket>${xml(bucketName)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
        return;
      }
      case 'AbortMultipartUpload': {
        const upload = this.upload(route, bucketName, key);
        this.uploads.delete(route.query.get('uploadId')!);
        for (const part of upload.parts.values()) await rm(part.file, { force: true });
        res.writeHead(204).end();
        return;
      }
      case 'DeleteObject': {
        const found = bucket.get(key);
        bucket.delete(key);
        if (found) await rm(found.file, { force: true });
        res.writeHead(204).end();
        return;
      }
      case 'GetObject':
      case 'HeadObject':
        await this.sendObject(route, bucket.get(key), req, res);
        return;
    }
  }

  /** A ListObjectsV2 page: keys under `prefix` in order, after `continuation-token` (or `start-after`). */
  private listObjects(bucketName: string, bucket: Map<string, StoredObject>, query: Map<string, string>): string {
    const prefix = query.get('prefix') ?? '';
    const max = pageSize(query.get('max-keys'));
    const token = query.get('continuation-token');
    const after = token !== undefined ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
    const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, max);
    const truncated = keys.length > page.length;
    const encode = query.get('encoding-type') === 'url' ? (text: string) => encodeURIComponent(text) : (text: string) => text;
    const contents = page
      .map((k) => {
        const object = bucket.get(k)!;
        return `<Contents><Key>${xml(encode(k))}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xml(object.etag)}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    return (
      `<ListBucketResult xmlns="${XMLNS}"><Name>${xml(bucketName)}</Name><Prefix>${xml(encode(prefix))}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>` +
      `${query.get('encoding-type') === 'url' ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${truncated}</IsTruncated>${contents}` +
      `${token !== undefined ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : ''}` +
      `${truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!, 'utf8').toString('base64url')}</NextContinuationToken>` : ''}</ListBucketResult>`
    );
  }

  /** A ListMultipartUploads page: open uploads under `prefix`, by key then upload id, after the markers. */
  private listUploads(bucketName: string, query: Map<string, string>): string {
    const prefix = query.get('prefix') ?? '';
    const max = pageSize(query.get('max-uploads'));
    const keyMarker = query.get('key-marker') ?? '';
    const uploadIdMarker = query.get('upload-id-marker') ?? '';
    const open = [...this.uploads]
      .filter(([, u]) => u.bucket === bucketName && u.key.startsWith(prefix))
      .map(([uploadId, u]) => ({ uploadId, ...u }))
      .sort((a, b) => (a.key === b.key ? (a.uploadId < b.uploadId ? -1 : 1) : a.key < b.key ? -1 : 1))
      .filter(
        (u) => keyMarker === '' || u.key > keyMarker || (u.key === keyMarker && uploadIdMarker !== '' && u.uploadId > uploadIdMarker),
      );
    const page = open.slice(0, max);
    const truncated = open.length > page.length;
    const last = page.at(-1);
    const uploads = page
      .map(
        (u) =>
          `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
      )
      .join('');
    return (
      `<ListMultipartUploadsResult xmlns="${XMLNS}"><Bucket>${xml(bucketName)}</Bucket><KeyMarker>${xml(keyMarker)}</KeyMarker><UploadIdMarker>${xml(uploadIdMarker)}</UploadIdMarker>` +
      `${truncated && last ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>` : ''}` +
      `<Prefix>${xml(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>${uploads}</ListMultipartUploadsResult>`
    );
  }

  private upload(route: Route, bucket: string, key: string): Upload {
    const upload = this.uploads.get(route.query.get('uploadId') ?? '');
    if (!upload || upload.bucket !== bucket || upload.key !== key)
      throw refusal(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        {
          UploadId: route.query.get('uploadId') ?? '',
        },
      );
    return upload;
  }

  /** The parts named by CompleteMultipartUpload, checked as S3 checks them. */
  private checkParts(upload: Upload, wanted: CompletePart[]): StoredPart[] {
    if (wanted.length === 0)
      throw refusal(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const invalidPart = () =>
      refusal(
        400,
        'InvalidPart',
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      );
    return wanted.map((w, i) => {
      if (i > 0 && w.partNumber <= wanted[i - 1]!.partNumber)
        throw refusal(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      const part = upload.parts.get(w.partNumber);
      if (!part || unquote(w.etag) !== unquote(part.etag)) throw invalidPart();
      for (const [algorithm, value] of Object.entries(w.checksums))
        if (part.checksum?.algorithm !== algorithm || part.checksum.value !== value) throw invalidPart();
      if (i < wanted.length - 1 && part.size < this.minPartBytes)
        throw refusal(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          PartNumber: String(w.partNumber),
          ProposedSize: String(part.size),
          MinSizeAllowed: String(this.minPartBytes),
        });
      return part;
    });
  }

  /**
   * Streams a request body into a temporary file and checks it against what the request
   * declared; the caller moves the file into place.
   */
  private async receive(
    req: IncomingMessage,
    payloadHash: string,
    record: S3RequestRecord,
  ): Promise<{ file: string; got: ReceivedObject; checksum: StoredObject['checksum'] }> {
    const awsChunked = (header(req, 'content-encoding') ?? '').split(',').some((e) => e.trim() === 'aws-chunked');
    if (awsChunked !== (payloadHash === STREAMING_UNSIGNED_TRAILER))
      throw refusal(
        400,
        'InvalidArgument',
        'x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER goes with Content-Encoding: aws-chunked, and only with it',
      );
    const declaredText = awsChunked ? header(req, 'x-amz-decoded-content-length') : header(req, 'content-length');
    if (declaredText === undefined || !/^\d+$/.test(declaredText))
      throw refusal(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    const declared = Number(declaredText);
    if (declared > MAX_OBJECT_BYTES)
      throw refusal(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        ProposedSize: declaredText,
        MaxSizeAllowed: String(MAX_OBJECT_BYTES),
      });

    const file = path.join(this.dir, 'tmp', randomUUID());
    try {
      const got = await receiveObject(req, file, awsChunked);
      record.bytes = got.size;
      if (got.size !== declared)
        throw refusal(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      if (/^[0-9a-f]{64}$/.test(payloadHash) && payloadHash !== got.sha256Hex)
        throw refusal(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
          ClientComputedContentSHA256: payloadHash,
          S3ComputedContentSHA256: got.sha256Hex,
        });
      const md5 = header(req, 'content-md5');
      if (md5 !== undefined && md5 !== got.md5.toString('base64'))
        throw refusal(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      return { file, got, checksum: this.checksumOf(req, got) };
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  /** The checksum the client sent (header or aws-chunked trailer), verified against the bytes. */
  private checksumOf(req: IncomingMessage, got: ReceivedObject): StoredObject['checksum'] {
    const trailer = header(req, 'x-amz-trailer')?.trim().toLowerCase();
    if (trailer !== undefined && got.trailers[trailer] === undefined)
      throw refusal(
        400,
        'MalformedTrailerError',
        'The request contained trailing data that was not well-formed or did not conform to our published schema.',
      );
    const sent = Object.keys(CHECKSUM_HEADERS).flatMap((name) => {
      const value = header(req, name) ?? got.trailers[name];
      return value === undefined ? [] : [[name, value] as const];
    });
    if (sent.length > 1)
      throw refusal(400, 'InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    const [first] = sent;
    if (!first) return undefined;
    const [name, value] = first;
    const algorithm = CHECKSUM_HEADERS[name]!;
    if (algorithm === 'unsupported')
      throw refusal(501, 'NotImplemented', `This S3 simulator verifies CRC32 and SHA256 checksums only, not ${name}.`);
    const computed = algorithm === 'crc32' ? got.crc32Base64 : got.sha256Base64;
    if (value !== computed)
      throw refusal(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    return { algorithm, value };
  }

  private async sendObject(route: Route, object: StoredObject | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!object) throw refusal(404, 'NoSuchKey', 'The specified key does not exist.', { Key: route.key! });
    const range = parseRange(header(req, 'range'), object.size);
    if (range === 'unsatisfiable')
      throw refusal(416, 'InvalidRange', 'The requested range is not satisfiable', {
        RangeRequested: header(req, 'range') ?? '',
        ActualObjectSize: String(object.size),
      });
    // Opened before answering: a delete racing this read still leaves the bytes readable.
    const handle = await open(object.file, 'r').catch(() => undefined);
    if (!handle) throw refusal(404, 'NoSuchKey', 'The specified key does not exist.', { Key: route.key! });
    const q = route.query;
    const checksumMode = header(req, 'x-amz-checksum-mode') ?? q.get('x-amz-checksum-mode');
    const headers: Record<string, string> = {
      'content-type': q.get('response-content-type') ?? object.contentType,
      'content-length': String(range ? range.end - range.start + 1 : object.size),
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${object.size}` } : {}),
      ...(q.get('response-cache-control') ? { 'cache-control': q.get('response-cache-control')! } : {}),
      ...(q.get('response-content-disposition') ? { 'content-disposition': q.get('response-content-disposition')! } : {}),
      ...(!range && checksumMode === 'ENABLED' && object.checksum
        ? { ...checksumHeader(object.checksum), 'x-amz-checksum-type': 'FULL_OBJECT' }
        : {}),
      ...(object.parts ? { 'x-amz-mp-parts-count': String(object.parts) } : {}),
    };
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || object.size === 0) {
      await handle.close();
      res.end();
      return;
    }
    await pipeline(handle.createReadStream(range ? { start: range.start, end: range.end } : {}), res).catch(() => res.destroy());
  }

  private sendXml(res: ServerResponse, status: number, body: string): void {
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private sendError(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    route: Route,
    error: S3Error & { extra?: Record<string, string> },
  ): void {
    // HEAD answers carry no body; the SDK reads the status alone (404 → NotFound).
    if (req.method === 'HEAD') {
      res.writeHead(error.status).end();
      return;
    }
    const resource = `/${route.bucket ?? ''}${route.key ? `/${route.key}` : ''}`;
    const extra = Object.entries(error.extra ?? {})
      .map(([name, value]) => `<${name}>${xml(value)}</${name}>`)
      .join('');
    // A refused request's body may still be arriving: drain it so the connection stays usable.
    req.resume();
    this.sendXml(
      res,
      error.status,
      `<Error><Code>${error.code}</Code><Message>${xml(error.message)}</Message>${extra}<Resource>${xml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`,
    );
  }
}

interface CompletePart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

function parseCompleteBody(body: string): CompletePart[] {
  if (!/<CompleteMultipartUpload[\s>]/.test(body))
    throw refusal(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  return [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, inner]) => {
    const field = (name: string) => {
      const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(inner!);
      return m ? unxml(m[1]!) : undefined;
    };
    const partNumber = Number(field('PartNumber'));
    const etag = field('ETag');
    if (!Number.isInteger(partNumber) || etag === undefined)
      throw refusal(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const checksums: CompletePart['checksums'] = {};
    const crc = field('ChecksumCRC32');
    const sha = field('ChecksumSHA256');
    if (crc !== undefined) checksums.crc32 = crc;
    if (sha !== undefined) checksums.sha256 = sha;
    return { partNumber, etag, checksums };
  });
}

async function readXml(req: IncomingMessage, payloadHash: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_XML_BYTES) throw refusal(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (/^[0-9a-f]{64}$/.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash)
    throw refusal(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  return body.toString('utf8');
}

/** One `bytes=` range as S3 reads it; anything it does not understand means the whole object. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

/** `max-keys` / `max-uploads`: S3 caps them at 1000 and treats a missing one as 1000. */
function pageSize(value: string | undefined): number {
  const n = value === undefined ? MAX_LIST : Number(value);
  if (!Number.isInteger(n) || n < 0) throw refusal(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
  return Math.min(n, MAX_LIST);
}

function checksumHeader(checksum: StoredObject['checksum']): Record<string, string> {
  return checksum ? { [`x-amz-checksum-${checksum.algorithm}`]: checksum.value } : {};
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function unxml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
