/**
 * One call to the Threads API. Parameters go in the query string for GET and in a form body for
 * POST (the documentation shows both as query parameters; a form keeps the token and the text out
 * of URLs and access logs). The token travels as `access_token`, as Threads documents it.
 */
import { formBody, httpRequest, NetworkError } from '../http.js';
import type { HttpResponse } from '../http.js';
import { isJsonObject, type JsonObject } from '../json.js';
import type { Failure } from '../publisher.js';
import { mapThreadsError, mapThreadsNetworkError, type ThreadsStage } from './errors.js';

/** Threads answered with an error (a non-2xx status, or a 2xx with the Graph error envelope). */
export class ThreadsResponseError extends Error {
  constructor(readonly answer: HttpResponse) {
    super(`Threads answered ${answer.status}`);
    this.name = 'ThreadsResponseError';
  }
}

/** Thrown inside this folder to end a publish with `failure`; `publish` returns it. */
export class ThreadsCallFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'ThreadsCallFailed';
  }
}

export interface ThreadsCall {
  token?: string | undefined;
  params?: Record<string, string | undefined>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** GET `url` with `params`: the JSON object of a 2xx answer; throws `ThreadsResponseError` or `NetworkError`. */
export async function threadsGet(url: string, call: ThreadsCall = {}): Promise<JsonObject> {
  const query = formBody({ ...call.params, access_token: call.token });
  const answer = await httpRequest(query.size > 0 ? `${url}?${query.toString()}` : url, { signal: call.signal, timeoutMs: call.timeoutMs });
  return objectOf(answer);
}

/** POST `url` with `params` as a form. */
export async function threadsPost(url: string, call: ThreadsCall = {}): Promise<JsonObject> {
  const answer = await httpRequest(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ ...call.params, access_token: call.token }),
    signal: call.signal,
    timeoutMs: call.timeoutMs,
  });
  return objectOf(answer);
}

function objectOf(answer: HttpResponse): JsonObject {
  const body = isJsonObject(answer.json) ? answer.json : undefined;
  if (answer.status < 200 || answer.status >= 300 || body === undefined || body.error !== undefined) throw new ThreadsResponseError(answer);
  return body;
}

/** Runs one request of a publish as a step of `stage`: its failure becomes `ThreadsCallFailed` with the mapped Failure. */
export async function step<T>(stage: ThreadsStage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ThreadsResponseError) throw new ThreadsCallFailed(mapThreadsError(error.answer, stage));
    if (error instanceof NetworkError) throw new ThreadsCallFailed(mapThreadsNetworkError(error, stage));
    throw error;
  }
}
