/**
 * Request bodies as the simulators need them. Small structured bodies (JSON, forms) are
 * buffered up to a limit; media (raw bytes, multipart file parts) is streamed through a
 * SHA-256 and a byte counter and never kept, so a simulator can take gigabyte uploads in
 * constant memory. Only the first bytes of each file are kept, to recognise its type.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Bytes kept from the start of every file, enough for every magic number `sniffType` knows. */
export const HEAD_BYTES = 64;
const MAX_BUFFERED_BODY = 1024 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PART_HEADER_BYTES = 16 * 1024;

/** A received file (multipart part with a filename, or a raw body): counted, hashed, never stored. */
export interface ReceivedBytes {
  bytes: number;
  sha256: string;
  /** The first HEAD_BYTES bytes, for type sniffing only. */
  head: Buffer;
}

export interface ReceivedFile extends ReceivedBytes {
  field: string;
  filename?: string | undefined;
  contentType?: string | undefined;
}

export type SimBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; fields: Record<string, string> }
  | { kind: 'multipart'; fields: Record<string, string>; files: ReceivedFile[] }
  /** Any other content type (video chunks): counted and hashed only. */
  | { kind: 'bytes'; contentType?: string | undefined; received: ReceivedBytes }
  /** Declared JSON that does not parse; the platform decides how to refuse it. */
  | { kind: 'malformed'; contentType: string; reason: string };

/** The body could not be read as declared; answered with `status` before any route runs. */
export class BodyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export async function readBody(stream: AsyncIterable<Buffer>, headers: IncomingHttpHeaders): Promise<SimBody> {
  const declaredLength = headers['content-length'];
  const chunked = headers['transfer-encoding'] !== undefined;
  if (!chunked && (declaredLength === undefined || declaredLength === '0')) return { kind: 'none' };
  const contentType = headers['content-type'] ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';

  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    const text = (await readLimited(stream)).toString('utf8');
    if (text === '') return { kind: 'none' };
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (error) {
      return { kind: 'malformed', contentType, reason: error instanceof Error ? error.message : 'invalid JSON' };
    }
  }
  if (mediaType === 'application/x-www-form-urlencoded') {
    const text = (await readLimited(stream)).toString('utf8');
    return { kind: 'form', fields: Object.fromEntries(new URLSearchParams(text)) };
  }
  if (mediaType === 'multipart/form-data') {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    const value = boundary?.[1] ?? boundary?.[2];
    if (!value) throw new BodyError('multipart/form-data without a boundary', 400);
    return { kind: 'multipart', ...(await readMultipart(stream, value)) };
  }
  const counter = new ByteCounter();
  for await (const chunk of stream) counter.write(chunk);
  return { kind: 'bytes', contentType: contentType || undefined, received: counter.finish() };
}

async function readLimited(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_BUFFERED_BODY) throw new BodyError(`a structured body over ${MAX_BUFFERED_BODY} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Counts and hashes bytes as they stream past, keeping only the first few. */
export class ByteCounter {
  private readonly hash: Hash = createHash('sha256');
  private readonly headParts: Buffer[] = [];
  private headLength = 0;
  bytes = 0;

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.hash.update(data);
    this.bytes += data.length;
    if (this.headLength < HEAD_BYTES) {
      // Copied: `data` may be a view into a larger buffer that must not be retained.
      const piece = Buffer.from(data.subarray(0, HEAD_BYTES - this.headLength));
      this.headParts.push(piece);
      this.headLength += piece.length;
    }
  }

  finish(): ReceivedBytes {
    return { bytes: this.bytes, sha256: this.hash.digest('hex'), head: Buffer.concat(this.headParts) };
  }
}

interface PartHeaders {
  field: string;
  filename?: string | undefined;
  contentType?: string | undefined;
}

type PartSink =
  { kind: 'file'; headers: PartHeaders; counter: ByteCounter } | { kind: 'field'; headers: PartHeaders; chunks: Buffer[]; size: number };

/**
 * A streaming multipart/form-data reader (RFC 7578): a state machine over the incoming chunks
 * that looks for the delimiter, holding back only as many bytes as the delimiter could span.
 */
async function readMultipart(
  stream: AsyncIterable<Buffer>,
  boundary: string,
): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
  const firstBoundary = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const fields: Record<string, string> = {};
  const files: ReceivedFile[] = [];
  // An object, not a `let`: the closure below changes it, which TypeScript's narrowing would not see.
  const machine: { state: 'preamble' | 'after-boundary' | 'headers' | 'body' | 'epilogue' } = { state: 'preamble' };
  let pending: Buffer = Buffer.alloc(0);
  let part: PartSink | undefined;

  const writePart = (data: Buffer): void => {
    if (!part || data.length === 0) return;
    if (part.kind === 'file') return part.counter.write(data);
    part.size += data.length;
    if (part.size > MAX_FIELD_BYTES) throw new BodyError(`multipart field "${part.headers.field}" is over ${MAX_FIELD_BYTES} bytes`, 413);
    part.chunks.push(Buffer.from(data));
  };
  const finishPart = (): void => {
    if (!part) return;
    if (part.kind === 'file') files.push({ ...part.headers, ...part.counter.finish() });
    else fields[part.headers.field] = Buffer.concat(part.chunks).toString('utf8');
    part = undefined;
  };

  const advance = (): void => {
    for (;;) {
      if (machine.state === 'preamble') {
        const at = pending.indexOf(firstBoundary);
        if (at < 0) {
          pending = pending.subarray(Math.max(0, pending.length - firstBoundary.length + 1));
          return;
        }
        pending = pending.subarray(at + firstBoundary.length);
        machine.state = 'after-boundary';
      } else if (machine.state === 'after-boundary') {
        if (pending.length < 2) return;
        const next = pending.subarray(0, 2).toString('latin1');
        if (next === '--') {
          machine.state = 'epilogue';
          pending = Buffer.alloc(0);
          return;
        }
        if (next !== '\r\n') throw new BodyError('malformed multipart delimiter', 400);
        pending = pending.subarray(2);
        machine.state = 'headers';
      } else if (machine.state === 'headers') {
        const end = pending.indexOf('\r\n\r\n', 0, 'latin1');
        if (end < 0) {
          if (pending.length > MAX_PART_HEADER_BYTES) throw new BodyError('multipart part headers too long', 400);
          return;
        }
        const headers = parsePartHeaders(pending.subarray(0, end).toString('utf8'));
        part =
          headers.filename !== undefined
            ? { kind: 'file', headers, counter: new ByteCounter() }
            : { kind: 'field', headers, chunks: [], size: 0 };
        pending = pending.subarray(end + 4);
        machine.state = 'body';
      } else if (machine.state === 'body') {
        const at = pending.indexOf(delimiter);
        if (at >= 0) {
          writePart(pending.subarray(0, at));
          finishPart();
          pending = pending.subarray(at + delimiter.length);
          machine.state = 'after-boundary';
          continue;
        }
        // Everything but a possible partial delimiter at the end is part data.
        const safe = pending.length - (delimiter.length - 1);
        if (safe > 0) {
          writePart(pending.subarray(0, safe));
          pending = pending.subarray(safe);
        }
        return;
      } else {
        pending = Buffer.alloc(0);
        return;
      }
    }
  };

  for await (const chunk of stream) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    advance();
  }
  if (machine.state !== 'epilogue') throw new BodyError('multipart body ended before its closing delimiter', 400);
  return { fields, files };
}

function parsePartHeaders(text: string): PartHeaders {
  let field: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-type') contentType = value;
    if (name === 'content-disposition') {
      field = /\bname="([^"]*)"/i.exec(value)?.[1];
      filename = /\bfilename="([^"]*)"/i.exec(value)?.[1];
    }
  }
  if (field === undefined) throw new BodyError('multipart part without a name', 400);
  return { field, filename, contentType };
}
