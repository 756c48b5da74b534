/**
 * Redaction of secrets from anything we log or show. Two rules:
 * - a property whose name says it holds a secret (token, secret, password, authorization,
 *   cookie, an OAuth `code` (not an error code), a PKCE verifier, a signature) is replaced, at any depth;
 * - inside strings, bearer credentials, query parameters of the same names, and token-shaped
 *   values (Slack xox*, vault-sealed v1.…) are replaced.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY = /(token|secret|password|passwd|authorization|cookie|api[-_]?key|signature|verifier|^state$|sealed|client[-_]?key)/i;

const SECRET_IN_TEXT: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [
    /((?<![A-Za-z0-9_])(?:access_token|refresh_token|client_secret|code|code_verifier|state|token|fb_exchange_token|input_token|appsecret_proof)=)[^&#\s"']+/gi,
    `$1${REDACTED}`,
  ],
  [/\bxox[abposr]-[A-Za-z0-9-]+/g, REDACTED],
  // Discord interaction tokens travel in webhook and callback paths.
  [/(\/(?:webhooks|interactions)\/\d+\/)[A-Za-z0-9_.-]{20,}/g, `$1${REDACTED}`],
  [/\bxapp-[A-Za-z0-9-]+/g, REDACTED],
  [/\bv1\.[0-9a-f]{12}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, REDACTED],
];

/**
 * What every pattern above needs somewhere in the text (a scheme word, an `=`, a token prefix, a
 * webhook path, a sealed value's `v1.`): most logged strings have none, and skip the patterns.
 */
const MAY_HOLD_SECRET = /bearer|basic|=|xox|xapp-|\/webhooks\/|\/interactions\/|v1\./i;

export function redactText(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_IN_TEXT) out = out.replace(pattern, replacement);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * `code` is an OAuth authorization code in a callback's query, but an error code
 * (`ECONNREFUSED`, `SQLITE_BUSY`, 190) on errors: only the first is a secret.
 */
function isSecretEntry(key: string, value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (key.toLowerCase() === 'code') return typeof value === 'string' && !/^[A-Z0-9_.-]{1,40}$/.test(value);
  return isSecretKey(key);
}

/** A deep copy of `value` with secrets replaced. Cycles are cut, depth is bounded. */
export function redactDeep(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 12) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  if (value instanceof Error) {
    const err: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) err.stack = redactText(value.stack);
    for (const [k, v] of Object.entries(value)) err[k] = isSecretEntry(k, v) ? REDACTED : redactDeep(v, depth + 1, seen);
    return err;
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretEntry(k, v) ? REDACTED : redactDeep(v, depth + 1, seen);
  }
  return out;
}
