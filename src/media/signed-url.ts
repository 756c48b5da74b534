/**
 * Signed, expiring tokens for `GET /media/:token`: platforms that pull media by URL (Instagram,
 * Facebook video, TikTok photos) fetch it without credentials, so the URL itself is the
 * credential. Token = base64url(mediaId.expiry) + "." + base64url(HMAC-SHA256).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export class MediaUrlSigner {
  constructor(private readonly key: Buffer) {}

  sign(mediaId: string, expiresAt: Date): string {
    const payload = Buffer.from(`${mediaId}.${Math.floor(expiresAt.getTime() / 1000)}`).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The media id when the token is authentic and unexpired, otherwise undefined. */
  verify(token: string, now: Date = new Date()): string | undefined {
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const decoded = Buffer.from(payload, 'base64url').toString('utf8');
    const dot = decoded.lastIndexOf('.');
    const expiry = Number(decoded.slice(dot + 1));
    if (dot <= 0 || !Number.isFinite(expiry) || expiry * 1000 <= now.getTime()) return undefined;
    return decoded.slice(0, dot);
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
