/**
 * A `fetch` for the chat libraries, over node:http(s) with keep-alive agents: the Slack Web API
 * client's (@slack/web-api's `fetch` option) and Discord's REST (@discordjs/rest's
 * `makeRequest`), both documented hooks for the function that sends their requests.
 *
 * Their defaults are Node's fetch and undici, which parse HTTP with llhttp compiled to
 * WebAssembly: compiling it (in background threads, at the first request) took ~30 MB of native
 * memory at its peak and left the process ~10 MB larger for good, and a fetch costs about three
 * times the CPU of a node:http request (issue 19). node:http parses in native code. What goes
 * over the wire is what the library asks for: its method, headers and body (text, bytes, a Node
 * stream sent chunked, or a FormData encoded as fetch encodes it: multipart with its boundary and
 * its length); its AbortSignal
 * (its timeout) aborts the request; `redirect: 'error'` refuses a redirect as fetch does, and no
 * redirect is ever followed.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { types } from 'node:util';

/** The process's keep-alive connections to chat APIs (this fetch's, and the response_url replies of src/bots/slack/respond.ts). */
export const keepAliveAgents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 10_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 10_000 }),
};

/** The part of a fetch RequestInit the libraries set (@discordjs/rest's `dispatcher` is undici's and means nothing here). */
export interface NodeFetchInit {
  method?: string;
  headers?: unknown;
  body?: unknown;
  signal?: AbortSignal | null;
  redirect?: string;
}

/** Statuses whose response has no body (a web Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

function headerRecord(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  return Object.fromEntries(new Headers(headers as ConstructorParameters<typeof Headers>[0]));
}

/**
 * The body as bytes to send with a length (and, for a FormData, Blob or URLSearchParams, the type
 * fetch gives it: multipart/form-data with a fresh boundary), or a Node stream to send chunked.
 * A FormData's parts are in memory already (the libraries build it from Buffers), so encoding it
 * whole costs no more than it holds, and servers that want a Content-Length get one, as from fetch.
 */
async function encodeBody(
  body: unknown,
): Promise<{ bytes: Uint8Array | string; contentType?: string | null } | { stream: Readable } | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || types.isUint8Array(body)) return { bytes: body };
  if (types.isArrayBuffer(body)) return { bytes: new Uint8Array(body) };
  if (body instanceof Readable) return { stream: body };
  const encoded = new Response(body as ConstructorParameters<typeof Response>[0]);
  return { bytes: new Uint8Array(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') };
}

/** Sends one request; resolves with the response (a web Response) once its headers arrive. */
export async function nodeFetch(url: string | URL, init: NodeFetchInit = {}): Promise<Response> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new TypeError(`an API URL must be http(s), not ${target.protocol}`);
  const transport = target.protocol === 'https:' ? https : http;
  const headers = headerRecord(init.headers);
  const body = await encodeBody(init.body);
  if (body && 'bytes' in body) {
    headers['content-length'] = String(Buffer.byteLength(body.bytes));
    // The caller's Content-Type wins, as with fetch.
    if (body.contentType && headers['content-type'] === undefined) headers['content-type'] = body.contentType;
  }

  return new Promise<Response>((resolve, reject) => {
    const req = transport.request(target, {
      method: init.method ?? 'GET',
      headers,
      agent: keepAliveAgents[target.protocol as 'http:' | 'https:'],
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.once('error', (error) => {
      if (body && 'stream' in body) body.stream.destroy();
      reject(error);
    });
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (init.redirect === 'error' && status >= 300 && status < 400) {
        res.resume();
        reject(
          new TypeError(`fetch failed: ${target.origin}${target.pathname} answered a redirect (${status}), and redirects are refused`),
        );
        return;
      }
      const responseHeaders = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      if (NO_BODY.has(status)) res.resume();
      const stream = NO_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, statusText: http.STATUS_CODES[status] ?? '', headers: responseHeaders }));
    });
    if (body && 'stream' in body) body.stream.pipe(req);
    else req.end(body?.bytes);
  });
}
