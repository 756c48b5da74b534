/**
 * The small HTTP layer every publisher uses: `fetch` with a timeout, JSON or text bodies read
 * safely, and network failures told apart by whether the request may have reached the platform.
 */

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, otherwise undefined. */
  json: unknown;
  /** The raw body text (bounded), for error messages. */
  text: string;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: RequestInit['body'];
  /** Milliseconds before giving up on an answer (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/**
 * The request did not get an answer. `mayHaveReached` is false only when the connection was never
 * made (refused, DNS), so a non-idempotent request that fails with `true` has an unknown outcome.
 */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly mayHaveReached: boolean,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_ERROR_TEXT = 4_000;
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export async function httpRequest(url: string, request: HttpRequest = {}): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'GET',
      headers: request.headers,
      body: request.body,
      signal,
      redirect: 'manual',
      ...(request.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    });
  } catch (error) {
    throw toNetworkError(url, error, timeout.aborted);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw toNetworkError(url, error, timeout.aborted);
  }
  let json: unknown;
  if (text !== '' && /json|javascript/i.test(response.headers.get('content-type') ?? 'application/json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, headers: response.headers, json, text: text.slice(0, MAX_ERROR_TEXT) };
}

function toNetworkError(url: string, error: unknown, timedOut: boolean): NetworkError {
  const host = safeHost(url);
  if (timedOut) return new NetworkError(`${host} did not answer in time`, true, true);
  const code = errorCode(error);
  if (code && NEVER_CONNECTED.has(code)) return new NetworkError(`could not connect to ${host} (${code})`, false, false);
  return new NetworkError(`the connection to ${host} failed${code ? ` (${code})` : ''}`, true, false);
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the platform';
  }
}

/** `Retry-After` as milliseconds (seconds or an HTTP date), if present and sane. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** application/x-www-form-urlencoded body from a record, skipping undefined values. */
export function formBody(fields: Record<string, string | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.set(k, v);
  return body;
}
