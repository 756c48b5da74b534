/** TikTok's answer shapes: the `{data, error:{code,message,log_id}}` envelope, and flat OAuth errors (§4.2, §4.10). */
import { tiktokLogId } from './ids.js';
import { json, type SimRequest, type SimResponse } from './server.js';

/** TikTok's envelope; "ok" on success. */
export function envelope(status: number, data: Record<string, unknown>, code = 'ok', message = ''): SimResponse {
  return json(status, { data, error: { code, message, log_id: tiktokLogId() } }, { 'x-tt-logid': tiktokLogId() });
}

/** The token endpoints answer flat OAuth errors with a log_id. */
export function oauthError(status: number, error: string, description: string): SimResponse {
  return json(status, { error, error_description: description, log_id: tiktokLogId() });
}

export function objectBody(request: SimRequest): Record<string, unknown> | undefined {
  return request.body.kind === 'json' ? asRecord(request.body.value) : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
