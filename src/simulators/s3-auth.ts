/**
 * AWS Signature Version 4 as S3 checks it, for the S3 simulator: the `Authorization` header
 * (what the SDK sends) and query-string authentication (presigned URLs). The signature is
 * recomputed with the secret of the access key named in the credential scope, so a client with
 * the wrong secret is refused exactly as S3 refuses it.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface S3Error {
  status: number;
  code: string;
  message: string;
}

export type AuthOutcome =
  | {
      ok: true;
      accessKeyId: string;
      via: 'header' | 'query';
      /** The declared payload hash: 64 hex digits, `UNSIGNED-PAYLOAD` or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`. */
      payloadHash: string;
    }
  | ({ ok: false } & S3Error);

export interface AuthRequest {
  method: string;
  /** The request target exactly as received: the still-encoded path and query. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface AuthSettings {
  region: string;
  /** access key id → secret access key */
  keys: ReadonlyMap<string, string>;
  now: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60_000;
const HEADER_AUTH = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const refuse = (status: number, code: string, message: string): AuthOutcome => ({ ok: false, status, code, message });

export function authenticate(request: AuthRequest, settings: AuthSettings): AuthOutcome {
  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const query = parseQuery(queryAt < 0 ? '' : request.url.slice(queryAt + 1));
  const authorization = request.headers.authorization;
  const presigned = query.some(([name]) => name === 'X-Amz-Algorithm');

  if (authorization !== undefined && presigned)
    return refuse(
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  if (authorization === undefined && !presigned) return refuse(403, 'AccessDenied', 'Access Denied');

  let credential: string;
  let signedHeaderList: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  let canonicalQuery: Array<[string, string]>;
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${ALGORITHM} `))
      return refuse(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    const match = HEADER_AUTH.exec(authorization.trim());
    if (!match) return refuse(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    [, credential, signedHeaderList, signature] = match as unknown as [string, string, string, string];
    const date = header(request.headers, 'x-amz-date');
    if (!date) return refuse(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    amzDate = date;
    const declared = header(request.headers, 'x-amz-content-sha256');
    if (!declared) return refuse(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    if (declared.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'))
      return refuse(
        501,
        'NotImplemented',
        'This S3 simulator does not implement signed aws-chunked payloads; use STREAMING-UNSIGNED-PAYLOAD-TRAILER.',
      );
    if (!/^[0-9a-f]{64}$/.test(declared) && declared !== UNSIGNED_PAYLOAD && declared !== STREAMING_UNSIGNED_TRAILER)
      return refuse(
        400,
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.',
      );
    payloadHash = declared;
    canonicalQuery = query;
  } else {
    const param = (name: string) => query.find(([n]) => n === name)?.[1];
    if (param('X-Amz-Algorithm') !== ALGORITHM)
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    const given = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].map(param);
    if (given.some((v) => v === undefined))
      return refuse(
        400,
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    const [cred, date, expires, signed, sig] = given as [string, string, string, string, string];
    const expiresSeconds = Number(expires);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604800)
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
    const signedAt = parseAmzDate(date);
    if (signedAt === undefined)
      return refuse(400, 'AuthorizationQueryParametersError', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    if (settings.now.getTime() > signedAt + expiresSeconds * 1000) return refuse(403, 'AccessDenied', 'Request has expired');
    credential = cred;
    amzDate = date;
    signedHeaderList = signed;
    signature = sig;
    payloadHash = param('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
    canonicalQuery = query.filter(([name]) => name !== 'X-Amz-Signature');
  }

  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request')
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      `The credential "${credential}" is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    );
  const [accessKeyId, scopeDate, region, service] = scope as [string, string, string, string, string];
  const secret = settings.keys.get(accessKeyId);
  if (secret === undefined) return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (region !== settings.region)
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${region}' is wrong; expecting '${settings.region}'`,
    );
  if (service !== 's3')
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`,
    );
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined || !amzDate.startsWith(scopeDate))
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the date "${scopeDate}" does not match x-amz-date "${amzDate}".`,
    );
  if (authorization !== undefined && Math.abs(settings.now.getTime() - signedAt) > MAX_SKEW_MS)
    return refuse(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return refuse(403, 'AccessDenied', 'Host must be a signed header');
  if (authorization !== undefined) {
    const unsigned = Object.keys(request.headers).filter((name) => name.startsWith('x-amz-') && !signedHeaders.includes(name));
    if (unsigned.length > 0)
      return refuse(403, 'AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ')}`);
  }
  for (const name of signedHeaders)
    if (request.headers[name] === undefined)
      return refuse(403, 'SignatureDoesNotMatch', `The signed header "${name}" is missing from the request.`);

  const canonicalRequest = [
    request.method,
    rawPath,
    canonicalQuery
      .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
      .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&'),
    signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const credentialScope = scope.slice(1).join('/');
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  return { ok: true, accessKeyId, via: authorization !== undefined ? 'header' : 'query', payloadHash };
}

/** The query as name/value pairs, percent-decoded, in order (repeats kept). */
export function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [safeDecode(name), safeDecode(value)];
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** SigV4's URI encoding: RFC 3986 unreserved characters stay, everything else is %XX (upper case). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}
