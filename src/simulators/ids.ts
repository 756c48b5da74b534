/**
 * Identifiers and secrets the simulators mint. They look like the real ones (numeric Graph
 * ids, 19-digit X snowflakes, TikTok `act.`/`rft.` tokens) so that code which parses or
 * stores them meets the same shapes, but they mean nothing outside a simulator.
 */
import { randomBytes } from 'node:crypto';

/** A URL-safe random string, optionally prefixed ('act.', 'rft.', ...). */
export function randomToken(prefix = '', bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/**
 * Numeric ids counting up from a base, as strings: Graph, X and TikTok ids exceed 2^53, so
 * they are kept as decimal strings (BigInt inside) and never as JavaScript numbers.
 */
export class NumericIds {
  private next: bigint;

  constructor(base: string) {
    this.next = BigInt(base);
  }

  take(): string {
    const id = this.next;
    this.next += 1n;
    return id.toString();
  }
}

/** Meta's `fbtrace_id`: an opaque token support uses to find a request. */
export function fbtraceId(): string {
  return randomBytes(8).toString('base64url');
}

/** TikTok's `log_id`: a timestamp followed by hex, e.g. 20260901120000A1B2C3D4E5F6A7B8C9. */
export function tiktokLogId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:TZ]/g, '')
    .slice(0, 14);
  return `${stamp}${randomBytes(9).toString('hex').toUpperCase()}`;
}

/** An Instagram shortcode as it appears in /p/{shortcode}/ permalinks. */
export function shortcode(): string {
  return `D${randomBytes(8).toString('base64url').slice(0, 10)}`;
}
