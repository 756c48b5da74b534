/**
 * The JSON Web Signatures the Bluesky simulator checks, with node:crypto only: DPoP proofs
 * (RFC 9449: `typ: dpop+jwt`, ES256, the public key in the header) and client assertions
 * (RFC 7523, signed with a key from the client's published JWKS).
 */
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';

export interface Jws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Decodes and verifies a compact ES256 JWS with `jwk`; a string says what is wrong. */
export function verifyEs256(token: string, jwk: JsonWebKey | ((header: Record<string, unknown>) => JsonWebKey | undefined)): Jws | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a compact JWS';
  const [h = '', p = '', s = ''] = parts;
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'the JWS header or payload is not JSON';
  }
  if (header.alg !== 'ES256') return `unsupported alg ${String(header.alg)}`;
  const key = typeof jwk === 'function' ? jwk(header) : jwk;
  if (!key) return 'no key matches the JWS';
  try {
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: createPublicKey({ key, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(s, 'base64url'),
    );
    if (!ok) return 'invalid signature';
  } catch (error) {
    return `the key or signature is unusable (${error instanceof Error ? error.message : String(error)})`;
  }
  return { header, payload };
}

/** RFC 7638 thumbprint of a P-256 public key. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  return createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
}

export function sha256Base64url(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export interface DpopCheck {
  proof: string | undefined;
  method: string;
  url: string;
  /** The access token the request carries (then `ath` must hash it). */
  accessToken?: string | undefined;
  nonces: readonly string[];
  seenJti: Set<string>;
  now: number;
}

/** A checked DPoP proof (its key's thumbprint), 'nonce' when the nonce is missing or stale, or what is wrong. */
export function checkDpopProof(check: DpopCheck): { jkt: string } | string {
  if (!check.proof) return 'DPoP proof required';
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(check.proof.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'invalid DPoP proof';
  }
  if (header.typ !== 'dpop+jwt') return 'DPoP proof typ must be dpop+jwt';
  const jwk = header.jwk as JsonWebKey | undefined;
  if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) return 'DPoP proof needs a public P-256 jwk';
  const verified = verifyEs256(check.proof, jwk);
  if (typeof verified === 'string') return `DPoP proof: ${verified}`;
  const { payload } = verified;
  if (payload.iss !== undefined) return 'DPoP proof must not have iss';
  if (typeof payload.jti !== 'string' || payload.jti === '') return 'DPoP proof needs a jti';
  if (payload.htm !== check.method) return `DPoP htm ${String(payload.htm)} is not ${check.method}`;
  if (payload.htu !== check.url) return `DPoP htu ${String(payload.htu)} is not ${check.url}`;
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - check.now) > 5 * 60_000) return 'DPoP proof iat is not recent';
  if (check.accessToken !== undefined && payload.ath !== sha256Base64url(check.accessToken))
    return 'DPoP ath does not match the access token';
  if (check.accessToken === undefined && payload.ath !== undefined) return 'DPoP ath given without an access token';
  if (typeof payload.nonce !== 'string' || !check.nonces.includes(payload.nonce)) return 'nonce';
  if (check.seenJti.has(payload.jti)) return 'DPoP proof replayed (jti already used)';
  check.seenJti.add(payload.jti);
  return { jkt: jwkThumbprint(jwk) };
}
