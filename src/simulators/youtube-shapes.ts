/**
 * Google's answer shapes (more-platforms.md §2.8): the Data API's
 * `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}` and the OAuth
 * endpoints' flat `{"error","error_description"}`.
 */
import { json, type SimResponse } from './server.js';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A Data API error, as Google sends it. */
export function googleError(status: number, reason: string, message: string, domain = 'youtube.api'): SimResponse {
  return json(status, {
    error: {
      code: status,
      message,
      errors: [{ message, domain, reason }],
      ...(STATUS_NAMES[status] ? { status: STATUS_NAMES[status] } : {}),
    },
  });
}

/** An OAuth endpoint's error. */
export function oauthError(status: number, error: string, description: string): SimResponse {
  return json(status, { error, error_description: description });
}

/** The 401 of every Data API call without a valid token. */
export function authError(): SimResponse {
  return json(401, {
    error: {
      code: 401,
      message:
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      errors: [
        { message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' },
      ],
      status: 'UNAUTHENTICATED',
    },
  });
}

export function quotaExceeded(): SimResponse {
  return googleError(
    403,
    'quotaExceeded',
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    'youtube.quota',
  );
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
