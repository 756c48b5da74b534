/**
 * How IQSP's Discord REST calls reach the API: @discordjs/rest's `makeRequest` (its documented
 * hook for the function that sends a request) over node:http(s) with keep-alive agents.
 *
 * Its default sends through undici, and Node's fetch is undici too: both parse HTTP with
 * llhttp compiled to WebAssembly, and compiling it (in background threads, at the first request:
 * here the gateway lookup at start) took ~30 MB of native memory at its peak and left the process
 * ~10 MB larger for good. node:http parses in native code, so an idle `serve` does not pay for it
 * (issue 19). What goes over the wire is what @discordjs/rest asks for: its method, headers and
 * body (JSON text, bytes, or a FormData encoded as fetch encodes it, multipart with its boundary,
 * streamed), and its AbortSignal (its timeout) aborts the request.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { types } from 'node:util';
import type { ResponseLike } from 'discord.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** The part of a fetch RequestInit @discordjs/rest sets (its `dispatcher` is undici's and has no meaning here). */
export interface RestRequestInit {
  method?: string;
  headers?: unknown;
  body?: unknown;
  signal?: AbortSignal | null;
}

/** Statuses whose response has no body (a web Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

function headerRecord(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  return Object.fromEntries(new Headers(headers as ConstructorParameters<typeof Headers>[0]));
}

/** The body as bytes to send with a length, or a stream with its content type (FormData, Blob, URLSearchParams). */
function encodeBody(body: unknown): { bytes: Uint8Array | string } | { stream: Readable; contentType: string | null } | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || types.isUint8Array(body)) return { bytes: body };
  if (types.isArrayBuffer(body)) return { bytes: new Uint8Array(body) };
  // Encoded by the web platform itself (a FormData as multipart/form-data with a fresh boundary).
  const encoded = new Response(body as ConstructorParameters<typeof Response>[0]);
  const stream = encoded.body ? Readable.fromWeb(encoded.body as NodeReadableStream<Uint8Array>) : Readable.from([]);
  return { stream, contentType: encoded.headers.get('content-type') };
}

/** Sends one request of @discordjs/rest's; resolves with the response once its headers arrive. */
export function discordRestRequest(url: string, init: RestRequestInit): Promise<ResponseLike> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return Promise.reject(new TypeError(`a Discord API URL must be http(s), not ${target.protocol}`));
  const transport = target.protocol === 'https:' ? https : http;
  const headers = headerRecord(init.headers);
  const body = encodeBody(init.body);
  if (body && 'bytes' in body) headers['content-length'] = String(Buffer.byteLength(body.bytes));
  if (body && 'stream' in body && body.contentType) headers['content-type'] = body.contentType;

  return new Promise<ResponseLike>((resolve, reject) => {
    const req = transport.request(target, {
      method: init.method ?? 'GET',
      headers,
      agent: agents[target.protocol as 'http:' | 'https:'],
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.once('error', (error) => {
      if (body && 'stream' in body) body.stream.destroy();
      reject(error);
    });
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const responseHeaders = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      if (NO_BODY.has(status)) res.resume();
      const stream = NO_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(
        new Response(stream, { status, statusText: http.STATUS_CODES[status] ?? '', headers: responseHeaders }) as unknown as ResponseLike,
      );
    });
    if (body && 'stream' in body) body.stream.pipe(req);
    else req.end(body?.bytes);
  });
}
