/**
 * XRPC calls to the account's PDS through the OAuth library's session: every call carries the
 * DPoP-bound access token and a fresh DPoP proof, and the library retries once with the PDS's
 * new nonce (`use_dpop_nonce`). A streamed body cannot be replayed by the library, so a streamed
 * upload refused for its nonce is sent once more here from a fresh stream.
 */
import type { Readable } from 'node:stream';
import type { OAuthSession } from '@atproto/oauth-client-node';
import type { Failure } from '../publisher.js';
import { mapBlueskyError, mapBlueskyNetworkError, mapLibraryError, type BlueskyAnswer, type BlueskyStage } from './errors.js';

/** A call that failed, mapped: thrown through the publishing flow and returned as its result. */
export class BlueskyCallFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'BlueskyCallFailed';
  }
}

export interface XrpcCall {
  method?: 'GET' | 'POST';
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** A streamed body (opened again if it must be resent), with its type and length. */
  stream?: { open(): Promise<Readable>; contentType: string; length: number };
  stage: BlueskyStage;
  signal?: AbortSignal | undefined;
}

export interface XrpcAnswer extends BlueskyAnswer {
  ok: boolean;
}

/** One XRPC call; throws `BlueskyCallFailed` when it gets no answer. Non-2xx answers are returned. */
export async function xrpcAnswer(session: OAuthSession, nsid: string, call: XrpcCall): Promise<XrpcAnswer> {
  const path = `/xrpc/${nsid}${queryString(call.query)}`;
  const attempt = async (): Promise<Response> => {
    const headers: Record<string, string> = {};
    let body: RequestInit['body'];
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.stream) {
      headers['content-type'] = call.stream.contentType;
      headers['content-length'] = String(call.stream.length);
      body = toWebStream(await call.stream.open());
    }
    return session.fetchHandler(path, {
      method: call.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: call.signal,
      ...(body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
    });
  };
  try {
    let response = await attempt();
    if (call.stream && response.status === 401 && /use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')) {
      await response.body?.cancel();
      response = await attempt();
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ok: response.ok, status: response.status, headers: response.headers, json };
  } catch (error) {
    if (error instanceof BlueskyCallFailed) throw error;
    const mapped = mapLibraryError(error, call.stage);
    if (mapped) throw new BlueskyCallFailed(mapped);
    if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError' || error.name === 'TypeError'))
      throw new BlueskyCallFailed(mapBlueskyNetworkError(error, call.stage, true));
    throw error;
  }
}

/** One XRPC call whose non-2xx answer is a failure. */
export async function xrpc(session: OAuthSession, nsid: string, call: XrpcCall): Promise<unknown> {
  const answer = await xrpcAnswer(session, nsid, call);
  if (!answer.ok) throw new BlueskyCallFailed(mapBlueskyError(answer, call.stage));
  return answer.json;
}

export function queryString(query: Record<string, string | undefined> | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** A Node stream as a web stream for fetch, without buffering it. */
export function toWebStream(stream: Readable): ReadableStream<Uint8Array> {
  const iterator = stream[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = (await iterator.next()) as IteratorResult<Buffer>;
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
    async cancel() {
      stream.destroy();
    },
  });
}

export function field(json: unknown, key: string): unknown {
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined;
}

export function stringField(json: unknown, key: string): string | undefined {
  const value = field(json, key);
  return typeof value === 'string' ? value : undefined;
}
