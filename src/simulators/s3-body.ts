/**
 * Object bodies as the S3 simulator receives them: streamed to a file on disk (never held in
 * memory), decoded from `aws-chunked` when the client sent that encoding (what the AWS SDK
 * does for streams, with the checksum in a trailer), and digested on the way: MD5 for the
 * ETag, SHA-256 for `x-amz-content-sha256`, CRC32 for `x-amz-checksum-crc32`.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** The body is not valid `aws-chunked`: S3 answers 400 IncompleteBody / InvalidRequest. */
export class AwsChunkedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsChunkedError';
  }
}

export interface ReceivedObject {
  /** Decoded bytes written. */
  size: number;
  md5: Buffer;
  sha256Hex: string;
  /** CRC32 of the decoded bytes, big-endian, base64: S3's `x-amz-checksum-crc32` form. */
  crc32Base64: string;
  sha256Base64: string;
  /** Trailing headers of an aws-chunked body (lower-case names). */
  trailers: Record<string, string>;
}

/** Streams `source` (decoded from aws-chunked when `awsChunked`) into `file`, digesting it. */
export async function receiveObject(source: AsyncIterable<Buffer>, file: string, awsChunked: boolean): Promise<ReceivedObject> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const trailers: Record<string, string> = {};
  let crc = 0;
  let size = 0;
  await pipeline(
    awsChunked ? decodeAwsChunked(source, trailers) : source,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        md5.update(chunk);
        sha256.update(chunk);
        crc = crc32(chunk, crc);
        yield chunk;
      }
    },
    createWriteStream(file, { mode: 0o600 }),
  );
  const sha = sha256.digest();
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc >>> 0);
  return {
    size,
    md5: md5.digest(),
    sha256Hex: sha.toString('hex'),
    sha256Base64: sha.toString('base64'),
    crc32Base64: crcBytes.toString('base64'),
    trailers,
  };
}

const MAX_LINE_BYTES = 8 * 1024;

/**
 * Decodes `aws-chunked` (the SigV4 streaming format): `hex-size[;chunk-signature=…]\r\n`, the
 * bytes, `\r\n`, … then a zero-size chunk, trailing headers and an empty line. Data is passed
 * on as views of the incoming chunks; only header lines are ever buffered.
 */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, trailers: Record<string, string>): AsyncGenerator<Buffer> {
  const at: { state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' } = { state: 'size' };
  let remaining = 0;
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length > 0) {
      if (at.state === 'data') {
        const n = Math.min(remaining, pending.length);
        yield pending.subarray(0, n);
        pending = pending.subarray(n);
        remaining -= n;
        if (remaining === 0) at.state = 'data-end';
        continue;
      }
      if (at.state === 'data-end') {
        if (pending.length < 2) break;
        if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw new AwsChunkedError('a chunk is longer than its declared size');
        pending = pending.subarray(2);
        at.state = 'size';
        continue;
      }
      if (at.state === 'done') throw new AwsChunkedError('bytes after the end of the aws-chunked body');
      const eol = pending.indexOf('\r\n', 0, 'latin1');
      if (eol < 0) {
        if (pending.length > MAX_LINE_BYTES) throw new AwsChunkedError('an aws-chunked header line is too long');
        break;
      }
      const line = pending.subarray(0, eol).toString('latin1');
      pending = pending.subarray(eol + 2);
      if (at.state === 'size') {
        const hex = line.split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,15}$/.test(hex)) throw new AwsChunkedError(`"${line.slice(0, 40)}" is not a chunk size`);
        remaining = Number.parseInt(hex, 16);
        at.state = remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        at.state = 'done';
      } else {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new AwsChunkedError(`"${line.slice(0, 40)}" is not a trailing header`);
        trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
  }
  // Some clients end right after the trailers, without the final empty line.
  if (at.state !== 'done' && !(at.state === 'trailer' && pending.length === 0))
    throw new AwsChunkedError('the aws-chunked body ended early');
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as S3's CRC32 checksum), continued from `previous`. */
export function crc32(data: Buffer, previous = 0): number {
  let crc = ~previous;
  for (let i = 0; i < data.length; i += 1) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
