/**
 * The harness every platform simulator is built on: a real node:http server on 127.0.0.1
 * (port 0, so tests run side by side), a router by method and path pattern, bodies read as
 * JSON, form, multipart or counted bytes (body.ts), a request log, added latency, and fault
 * injection shared by all simulators.
 *
 * A simulator extends `SimServer`, registers its routes in its constructor and answers with
 * plain `SimResponse` values; the harness does the I/O, so the platform files read as the
 * platform's rules.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BodyError, readBody, type ReceivedBytes, type SimBody } from './body.js';

export type { SimBody } from './body.js';

export interface SimRequest {
  method: string;
  /** The path without the query string, percent-decoded per segment by the route's groups. */
  path: string;
  /** The query; for a repeated parameter the last value wins (see `searchParams` for all). */
  query: Record<string, string>;
  searchParams: URLSearchParams;
  /** The route pattern's capture groups, percent-decoded. */
  params: string[];
  headers: IncomingHttpHeaders;
  body: SimBody;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | undefined;
}

export type Handler = (request: SimRequest) => SimResponse | Promise<SimResponse>;

/**
 * One injected fault. `match` sees the method and the path (without query); `times` (default
 * 1) is how many matching requests it applies to, after which it is removed. Faults are
 * tried in the order they were pushed.
 * - status: answer this status instead of running the route (`body` defaults to the
 *   platform's own error shape for that status; a string body is sent as is);
 * - hang: never answer (with `process`, the route runs first, so its effects happen);
 * - reset: destroy the connection without an answer (with `process`, after the route ran);
 * - slow: wait `ms` before running the route normally.
 */
export type Fault = { match: (method: string, path: string) => boolean; times?: number } & (
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'hang'; process?: boolean }
  | { kind: 'reset'; process?: boolean }
  | { kind: 'slow'; ms: number }
);

/** What the request log keeps of a body: every field, but of files only their size and hash. */
export type RecordedBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; fields: Record<string, string> }
  | {
      kind: 'multipart';
      fields: Record<string, string>;
      files: Array<{ field: string; filename?: string | undefined; contentType?: string | undefined; bytes: number; sha256: string }>;
    }
  | { kind: 'bytes'; contentType?: string | undefined; bytes: number; sha256: string }
  | { kind: 'malformed'; contentType: string; reason: string };

export interface RecordedRequest {
  at: Date;
  method: string;
  path: string;
  query: Record<string, string>;
  /** content-type, content-length, content-range, and the authorization scheme (never the credential). */
  headers: Record<string, string>;
  body: RecordedBody;
  /** The status answered; undefined while pending, or when the connection hung or was reset. */
  status?: number | undefined;
  fault?: Fault['kind'] | undefined;
}

export interface SimServerOptions {
  /** For messages: 'graph', 'x', 'tiktok'. */
  name: string;
  latencyMs?: number | undefined;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const LOGGED_HEADERS = ['content-type', 'content-length', 'content-range'];

export function json(status: number, value: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body: JSON.stringify(value) };
}

export function html(status: number, markup: string): SimResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: markup };
}

export function redirect(location: string): SimResponse {
  return { status: 302, headers: { location, 'content-type': 'text/html; charset=utf-8' }, body: '' };
}

export abstract class SimServer {
  /** Pending faults, consumed in order (see `Fault`). */
  readonly faults: Fault[] = [];
  /** Every request received, in order of arrival. */
  readonly requests: RecordedRequest[] = [];
  /** Milliseconds added before every answer (a benchmark's network). */
  latencyMs: number;
  /** Aborted on close: background work (media downloads) stops with the server. */
  protected readonly lifetime = new AbortController();
  private readonly routes: Route[] = [];
  private readonly server: Server;
  private origin: string | undefined;

  protected constructor(protected readonly simOptions: SimServerOptions) {
    this.latencyMs = simOptions.latencyMs ?? 0;
    // Every request in flight waits on this one signal (latency, faults, media downloads): a
    // benchmark holds hundreds at once, which is not a leak.
    setMaxListeners(0, this.lifetime.signal);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in a simulator must be loud, and the client must not hang on it.
        console.error(`[${this.simOptions.name} simulator]`, error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`simulator error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  }

  /** The origin, e.g. http://127.0.0.1:40123 (available once started). */
  get url(): string {
    if (!this.origin) throw new Error(`the ${this.simOptions.name} simulator is not started`);
    return this.origin;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Stops listening and drops every connection, including hanging ones. */
  async close(): Promise<void> {
    this.lifetime.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  protected route(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, pattern, handler });
  }

  /** The answer to a path no route matches, in the platform's shape. */
  protected abstract notFound(request: SimRequest): SimResponse;

  /** The platform's own error body for an injected status fault without an explicit body. */
  protected abstract faultResponse(status: number, request: SimRequest): SimResponse;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      at: new Date(),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: loggedHeaders(req.headers),
      body: { kind: 'none' },
    };
    this.requests.push(record);

    let body: SimBody;
    try {
      body = await readBody(req, req.headers);
    } catch (error) {
      if (error instanceof BodyError)
        return this.send(res, record, { status: error.status, headers: { 'content-type': 'text/plain' }, body: error.message });
      // The client went away mid-body: there is nobody to answer.
      return;
    }
    record.body = recordedBody(body);
    const request: SimRequest = {
      method,
      path: url.pathname,
      query: record.query,
      searchParams: url.searchParams,
      params: [],
      headers: req.headers,
      body,
    };

    const fault = takeFault(this.faults, method, url.pathname);
    if (fault) record.fault = fault.kind;
    switch (fault?.kind) {
      case 'status': {
        const base = this.faultResponse(fault.status, request);
        const payload = fault.body === undefined ? base.body : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        return this.send(res, record, { status: fault.status, headers: { ...base.headers, ...fault.headers }, body: payload });
      }
      case 'hang':
        if (fault.process) await this.dispatch(request);
        return;
      case 'reset':
        if (fault.process) await this.dispatch(request);
        req.socket.destroy();
        return;
      case 'slow':
        await sleep(fault.ms, undefined, { signal: this.lifetime.signal }).catch(() => undefined);
        break;
      default:
        break;
    }
    return this.send(res, record, await this.dispatch(request));
  }

  private async dispatch(request: SimRequest): Promise<SimResponse> {
    for (const route of this.routes) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      request.params = match.slice(1).map((group) => decodeURIComponent(group ?? ''));
      return route.handler(request);
    }
    return this.notFound(request);
  }

  private async send(res: ServerResponse, record: RecordedRequest, response: SimResponse): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { signal: this.lifetime.signal }).catch(() => undefined);
    if (res.destroyed) return;
    const body = response.body ?? '';
    res.writeHead(response.status, { ...response.headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    record.status = response.status;
  }
}

/**
 * The first pending fault matching the request, consumed (a fault applies to `times` requests,
 * then leaves the list); undefined when none matches. Shared by every fake that takes faults.
 */
export function takeFault<F extends Fault>(faults: F[], method: string, path: string): F | undefined {
  const index = faults.findIndex((f) => (f.times ?? 1) > 0 && f.match(method, path));
  const fault = faults[index];
  if (!fault) return undefined;
  fault.times = (fault.times ?? 1) - 1;
  if (fault.times <= 0) faults.splice(index, 1);
  return fault;
}

function loggedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const logged: Record<string, string> = {};
  for (const name of LOGGED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') logged[name] = value;
  }
  const scheme = headers.authorization?.split(' ')[0];
  if (scheme) logged.authorization = `${scheme} …`;
  return logged;
}

function recordedBody(body: SimBody): RecordedBody {
  switch (body.kind) {
    case 'multipart':
      return {
        kind: 'multipart',
        fields: body.fields,
        files: body.files.map(({ field, filename, contentType, bytes, sha256 }) => ({ field, filename, contentType, bytes, sha256 })),
      };
    case 'bytes':
      return { kind: 'bytes', contentType: body.contentType, bytes: body.received.bytes, sha256: body.received.sha256 };
    default:
      return body;
  }
}

/** The bytes of a raw body, or of the multipart file part named `field`. */
export function receivedFile(body: SimBody, field?: string): ReceivedBytes | undefined {
  if (body.kind === 'bytes') return body.received;
  if (body.kind === 'multipart') return body.files.find((f) => field === undefined || f.field === field);
  return undefined;
}

/** The fields of a form, multipart or JSON-object body, plus the query: Graph reads parameters from either. */
export function parameters(request: SimRequest): Record<string, string> {
  const merged: Record<string, string> = { ...request.query };
  const { body } = request;
  if (body.kind === 'form' || body.kind === 'multipart') Object.assign(merged, body.fields);
  if (body.kind === 'json' && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value))
    for (const [key, value] of Object.entries(body.value)) merged[key] = typeof value === 'string' ? value : JSON.stringify(value);
  return merged;
}

/** Whether a header value is present (case-insensitive name), as a single string. */
export function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
