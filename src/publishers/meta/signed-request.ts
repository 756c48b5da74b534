/**
 * Meta's `signed_request`, as its data deletion and deauthorize callbacks send it: two base64url
 * parts joined by a dot, the HMAC-SHA256 of the second (the encoded payload, as sent) with the
 * app secret, and the payload, JSON with `algorithm` ("HMAC-SHA256"), `issued_at` (seconds) and
 * the app-scoped `user_id`. Checked in constant time before the payload is trusted for anything.
 *
 * https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback
 * https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#deauth-callback
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PlatformNotice } from '../publisher.js';

/** A request issued longer ago than this is refused as expired (a replayed capture). */
export const SIGNED_REQUEST_MAX_AGE_MS = 24 * 3600_000;
/** Clocks differ a little; a request from further in the future than this is refused. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** The callbacks a Meta app registers, by the last part of their route (`/oauth/facebook/<name>`). */
const NOTICES: ReadonlyMap<string, 'erase' | 'deauthorize'> = new Map([
  ['data-deletion', 'erase'],
  ['deauthorize', 'deauthorize'],
]);

interface SignedPayload {
  algorithm?: unknown;
  issued_at?: unknown;
  expires?: unknown;
  user_id?: unknown;
}

/** Meta's callbacks for this app: which one `name` is, and whether its signed request holds. */
export function readMetaNotice(
  appSecret: string,
  name: string,
  form: Readonly<Record<string, string>>,
  now: Date,
): PlatformNotice | undefined {
  // A Map, not an object: `constructor` or `__proto__` in the route is no callback of ours.
  const kind = NOTICES.get(name);
  if (!kind) return undefined;
  const payload = verifySignedRequest(appSecret, form.signed_request, now);
  if ('refused' in payload) return { kind: 'refused', reason: payload.refused };
  return { kind, platformUserId: payload.userId };
}

/** The payload's user id, or why the request is refused (said in a 400, with nothing done). */
export function verifySignedRequest(
  appSecret: string,
  signedRequest: string | undefined,
  now: Date,
): { userId: string } | { refused: string } {
  if (!signedRequest) return { refused: 'signed_request is missing' };
  const parts = signedRequest.split('.');
  const [signature, encoded] = parts;
  if (parts.length !== 2 || !signature || !encoded || !BASE64URL.test(signature) || !BASE64URL.test(encoded))
    return { refused: 'signed_request is not two base64url parts joined by a dot' };
  const expected = createHmac('sha256', appSecret).update(encoded).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'the signature does not match' };

  let payload: SignedPayload;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as SignedPayload;
  } catch {
    return { refused: 'the payload is not JSON' };
  }
  if (typeof payload !== 'object' || payload === null) return { refused: 'the payload is not a JSON object' };
  if (typeof payload.algorithm !== 'string' || payload.algorithm.toUpperCase() !== 'HMAC-SHA256')
    return { refused: `the algorithm is ${JSON.stringify(payload.algorithm ?? null)}, not HMAC-SHA256` };
  if (typeof payload.issued_at !== 'number' || !Number.isFinite(payload.issued_at)) return { refused: 'issued_at is missing' };
  const issued = payload.issued_at * 1000;
  if (issued < now.getTime() - SIGNED_REQUEST_MAX_AGE_MS) return { refused: 'the request has expired (issued more than a day ago)' };
  if (issued > now.getTime() + CLOCK_SKEW_MS) return { refused: 'the request is issued in the future' };
  if (typeof payload.expires === 'number' && payload.expires > 0 && payload.expires * 1000 <= now.getTime())
    return { refused: 'the request has expired' };
  const userId = typeof payload.user_id === 'number' ? String(payload.user_id) : payload.user_id;
  if (typeof userId !== 'string' || !/^\d{1,32}$/.test(userId)) return { refused: 'user_id is missing or malformed' };
  return { userId };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
