/**
 * TikTok's API envelope: every Content Posting and user-info answer is
 * `{"data": {...}, "error": {"code": "ok" | "<code>", "message", "log_id"}}`.
 */
import type { HttpResponse } from '../http.js';
import { httpRequest } from '../http.js';
import type { JsonObject } from './json.js';
import { asObject, asString } from './json.js';
import type { TiktokSettings } from './options.js';

export interface TiktokApiError {
  code: string;
  message: string;
}

/** The envelope's error, when it is not "ok". */
export function envelopeError(body: unknown): TiktokApiError | undefined {
  const error = asObject(asObject(body).error);
  const code = asString(error.code);
  if (!code || code === 'ok') return undefined;
  return { code, message: asString(error.message) ?? '' };
}

export function envelopeData(body: unknown): JsonObject {
  return asObject(asObject(body).data);
}

/** A 2xx answer whose envelope says "ok" (or has no envelope at all). */
export function isSuccess(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300 && envelopeError(response.json) === undefined;
}

/** POST a JSON body (or none) to a Content Posting endpoint with the user's token. */
export function postJson(
  settings: TiktokSettings,
  path: string,
  accessToken: string,
  body: JsonObject | undefined,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  return httpRequest(`${settings.apiUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json; charset=UTF-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
}
