/**
 * LinkedIn's answer shapes (more-platforms.md §1.8): API errors `{status, serviceErrorCode,
 * code, message}`, validation errors with `errorDetails.inputErrors[]`, flat OAuth errors, and
 * the little-text rules the Posts API applies to `commentary`.
 */
import { randomBytes } from 'node:crypto';
import { json, type SimRequest, type SimResponse } from './server.js';

/** LinkedIn's request id, sent on every API answer (what support asks for). */
export function liHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-li-uuid': randomBytes(16).toString('base64'), 'x-restli-protocol-version': '2.0.0', ...extra };
}

export function apiError(status: number, code: string | undefined, message: string, serviceErrorCode?: number): SimResponse {
  return json(
    status,
    { status, ...(serviceErrorCode !== undefined ? { serviceErrorCode } : {}), ...(code ? { code } : {}), message },
    liHeaders(),
  );
}

/** A Rest.li validation failure naming the field. */
export function inputError(status: number, fieldPath: string, code: string, description: string): SimResponse {
  return json(
    status,
    {
      status,
      errorDetailType: 'com.linkedin.common.error.BadRequest',
      message: `${description} (${fieldPath})`,
      code,
      errorDetails: { inputErrors: [{ description, input: { inputPath: { fieldPath } }, code }] },
    },
    liHeaders(),
  );
}

export function oauthError(status: number, error: string, description: string): SimResponse {
  return json(status, { error, error_description: description });
}

export const accessDenied = (what: string): SimResponse => apiError(403, 'ACCESS_DENIED', `Not enough permissions to access: ${what}`, 100);

export function objectBody(request: SimRequest): Record<string, unknown> | undefined {
  return request.body.kind === 'json' ? asRecord(request.body.value) : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const RESERVED = '\\|{}@[]()<>#*_~';

/**
 * The plain text of a `commentary` in LinkedIn's "little" format: escapes removed, hashtags
 * `{hashtag|\#|word}` and mentions `@[Name](urn)` read as their text. Undefined when a reserved
 * character stands unescaped outside those: LinkedIn would drop or cut the text there.
 */
export function littleTextPlain(commentary: string): string | undefined {
  let out = '';
  for (let i = 0; i < commentary.length; i += 1) {
    const c = commentary[i] ?? '';
    if (c === '\\') {
      const next = commentary[i + 1];
      if (next === undefined || !RESERVED.includes(next)) return undefined;
      out += next;
      i += 1;
      continue;
    }
    const rest = commentary.slice(i);
    const hashtag = /^\{hashtag\|\\#\|([^{}|\\]+)\}/.exec(rest);
    if (hashtag) {
      out += `#${hashtag[1] ?? ''}`;
      i += hashtag[0].length - 1;
      continue;
    }
    const mention = /^@\[([^\]]+)\]\((urn:li:(?:person|organization):[^)]+)\)/.exec(rest);
    if (mention) {
      out += mention[1] ?? '';
      i += mention[0].length - 1;
      continue;
    }
    if (RESERVED.includes(c)) return undefined;
    out += c;
  }
  return out;
}
