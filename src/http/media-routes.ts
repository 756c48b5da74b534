/**
 * `GET|HEAD /media/:token`: temporary media for platforms that fetch by URL. The token is
 * signed and expiring; `Range` is answered (one range, as platforms' fetchers use); once the
 * media is deleted or the token expired, 404. A store that offers presigned URLs (S3 with
 * `S3_PRESIGNED_REDIRECT=true`) gets a 302 there instead, so the bytes skip IQSP; the bucket
 * answers `Range` itself.
 */
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { MediaService } from '../media/service.js';
import type { MediaUrlSigner } from '../media/signed-url.js';
import type { MediaStore } from '../media/store.js';

/** A presigned URL only has to outlive the redirect it is sent in. */
export const PRESIGNED_URL_TTL_SECONDS = 300;

export type ParsedRange = { kind: 'all' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/** Parses a `Range` header for a body of `size` bytes (RFC 9110 §14.1.2, single range). */
export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (!header) return { kind: 'all' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: 'all' }; // several ranges or another unit: send it all
  const [, from, to] = match;
  if (from === '' && to === '') return { kind: 'all' };
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end };
}

export function mediaRoutes(deps: { media: MediaService; store: MediaStore; signer: MediaUrlSigner }) {
  return (router: Router): void => {
    const serve = async (ctx: RouterContext): Promise<void> => {
      const notFound = () => {
        ctx.status = 404;
        ctx.type = 'text/plain';
        ctx.body = 'This media link has expired or the media was deleted.';
      };
      const mediaId = deps.signer.verify(String(ctx.params.token ?? ''));
      if (!mediaId) return notFound();
      const row = await deps.media.row(mediaId);
      if (!row || row.deleted_at) return notFound();
      const size = await deps.store.size(row.storage_key);
      if (size === undefined) return notFound();

      if (deps.store.presignedUrl) {
        ctx.set('Cache-Control', 'private, no-store');
        ctx.redirect(await deps.store.presignedUrl(row.storage_key, { ttlSeconds: PRESIGNED_URL_TTL_SECONDS, contentType: row.mime_type }));
        return;
      }

      ctx.set('Accept-Ranges', 'bytes');
      ctx.set('Cache-Control', 'private, no-store');
      ctx.set('ETag', `"${row.sha256}"`);
      ctx.type = row.mime_type;
      const range = parseRange(ctx.get('range') || undefined, size);
      if (range.kind === 'unsatisfiable') {
        ctx.status = 416;
        ctx.set('Content-Range', `bytes */${size}`);
        ctx.body = '';
        return;
      }
      const start = range.kind === 'range' ? range.start : 0;
      const end = range.kind === 'range' ? range.end : size - 1;
      ctx.status = range.kind === 'range' ? 206 : 200;
      if (range.kind === 'range') ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
      if (ctx.method === 'HEAD') {
        // Koa turns a null body into 204; set the status again after it.
        ctx.body = null;
        ctx.status = range.kind === 'range' ? 206 : 200;
        ctx.length = end - start + 1;
        return;
      }
      ctx.body = size === 0 ? '' : await deps.store.open(row.storage_key, { start, end });
      ctx.length = end - start + 1;
    };
    router.get('/media/:token', serve);
    router.head('/media/:token', serve);
  };
}
