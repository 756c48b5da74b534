/** Google's JSON answers, read field by field (the shared readers), and its two error shapes. */
import { arrayField, isJsonObject, objectField, stringField } from '../json.js';

export { arrayField, numberField, objectField, stringField } from '../json.js';

/** A Data API error: `{"error":{"code":403,"message":"…","errors":[{"domain":"youtube.quota","reason":"quotaExceeded"}]}}`. */
export interface GoogleApiError {
  reason?: string | undefined;
  domain?: string | undefined;
  message?: string | undefined;
}

export function apiError(body: unknown): GoogleApiError | undefined {
  const error = objectField(body, 'error');
  if (!error) return undefined;
  const first = arrayField(error, 'errors').find(isJsonObject);
  return {
    reason: stringField(first, 'reason') ?? stringField(error, 'status'),
    domain: stringField(first, 'domain'),
    message: stringField(error, 'message') ?? stringField(first, 'message'),
  };
}

/** The OAuth endpoints' shape: `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`. */
export function oauthError(body: unknown): { code: string; description?: string | undefined } | undefined {
  const code = isJsonObject(body) && typeof body.error === 'string' ? body.error : undefined;
  return code ? { code, description: stringField(body, 'error_description') } : undefined;
}
