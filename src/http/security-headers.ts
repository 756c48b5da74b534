/**
 * Security headers on every response (contract.md §3), set before any route runs so errors,
 * 404s and refusals carry them too.
 *
 * The policy fits every page this service serves: scripts only from this origin (the sandbox's
 * script is a file of its own), inline styles (the pages are self-contained), images from this
 * origin or PUBLIC_URL (media previews), and no framing at all (clickjacking on the consent
 * and sandbox pages).
 */
/** One year, as browsers' preload lists expect; only sent with an https PUBLIC_URL. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

export function contentSecurityPolicy(publicUrl: string | undefined): string {
  const publicOrigin = publicUrl ? ` ${new URL(publicUrl).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'unsafe-inline'",
    `img-src 'self' data: blob:${publicOrigin}`,
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers every response carries (set before any route runs, so errors, 404s and refusals carry them too). */
export function securityHeaderList(publicUrl: string | undefined): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(publicUrl),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  if (publicUrl?.startsWith('https:')) headers['Strict-Transport-Security'] = `max-age=${HSTS_MAX_AGE_SECONDS}`;
  return headers;
}
