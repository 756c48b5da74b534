/**
 * X's v2 chunked media upload (platform-apis.md §3.4): initialize, append the bytes in ordered
 * segments read by byte range (one chunk in memory at a time), finalize, then poll the status
 * while X processes videos and GIFs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaAccess, MediaInfo } from '../../media/media.js';
import { bearer, XCallFailed, xCall } from './api.js';
import { field, numberField, stringField } from './json.js';
import type { XMediaKind } from './limits.js';

/** X numbers append segments 0–999, so a file never needs more than 1000 of them. */
const MAX_SEGMENTS = 1000;

const CATEGORY: Record<XMediaKind, string> = { image: 'tweet_image', gif: 'tweet_gif', video: 'tweet_video' };

export interface XUploadOptions {
  apiUrl: string;
  accessToken: string;
  media: MediaAccess;
  chunkBytes: number;
  /** Milliseconds per second of X's `check_after_secs` (1000 in production). */
  pollIntervalMs: number;
  maxWaitMs: number;
  signal?: AbortSignal | undefined;
  /** Called after each segment X accepted, with its size. */
  onBytesSent(bytes: number): void;
  onProcessing(): void;
}

/** Uploads one file and returns its media id once X can attach it to a post. */
export async function uploadMedia(file: MediaInfo, kind: XMediaKind, options: XUploadOptions): Promise<string> {
  const { apiUrl, signal } = options;
  const auth = bearer(options.accessToken);

  const init = await xCall(
    `${apiUrl}/2/media/upload/initialize`,
    {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ media_type: file.mimeType, total_bytes: file.sizeBytes, media_category: CATEGORY[kind] }),
      signal,
    },
    'upload',
  );
  const mediaId = stringField(field(init.json, 'data'), 'id');
  if (!mediaId)
    throw new XCallFailed({
      class: 'retryable',
      message: 'X started the upload without a media id; try again.',
      platformCode: 'x:initialize',
    });

  const chunkBytes = Math.max(options.chunkBytes, Math.ceil(file.sizeBytes / MAX_SEGMENTS));
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(file.sizeBytes, 1)));
  for (let start = 0, segment = 0; start < file.sizeBytes; start += chunkBytes, segment += 1) {
    const end = Math.min(start + chunkBytes, file.sizeBytes) - 1;
    const chunk = await readRange(options.media, file, start, end, buffer);
    const form = new FormData();
    form.set('segment_index', String(segment));
    form.set('media', new Blob([chunk], { type: 'application/octet-stream' }), 'media');
    await xCall(`${apiUrl}/2/media/upload/${mediaId}/append`, { method: 'POST', headers: auth, body: form, signal }, 'upload');
    options.onBytesSent(chunk.length);
  }

  const finalized = await xCall(`${apiUrl}/2/media/upload/${mediaId}/finalize`, { method: 'POST', headers: auth, signal }, 'upload');
  await waitUntilProcessed(mediaId, file, field(finalized.json, 'data'), options);
  return mediaId;
}

/** Polls STATUS while `processing_info` says X is still working, as often as X asks. */
async function waitUntilProcessed(mediaId: string, file: MediaInfo, data: Record<string, unknown>, options: XUploadOptions): Promise<void> {
  const started = Date.now();
  const name = file.originalName ?? `the ${file.kind}`;
  let info = field(data, 'processing_info');
  for (;;) {
    const state = stringField(info, 'state');
    // No processing_info means the media is ready now (images usually).
    if (state === undefined || state === 'succeeded') return;
    if (state === 'failed') {
      const error = field(info, 'error');
      const reason = stringField(error, 'message') ?? 'it could not be processed';
      throw new XCallFailed({
        class: 'content',
        message: `X could not process ${name} (${reason.replace(/\.$/, '')}); change the file before posting again.`,
        platformCode: `x:media:${stringField(error, 'name') ?? 'failed'}`,
      });
    }
    options.onProcessing();
    const waitMs = Math.max(1, numberField(info, 'check_after_secs') ?? 1) * options.pollIntervalMs;
    if (Date.now() - started + waitMs > options.maxWaitMs)
      throw new XCallFailed({
        class: 'retryable',
        message: `X was still processing ${name} after ${Math.round((Date.now() - started) / 1000)} seconds; nothing was posted, try again later.`,
        platformCode: 'x:processing-timeout',
      });
    await sleep(waitMs, undefined, { signal: options.signal });
    const status = await xCall(
      `${options.apiUrl}/2/media/upload?command=STATUS&media_id=${encodeURIComponent(mediaId)}`,
      { headers: bearer(options.accessToken), signal: options.signal },
      'upload',
    );
    info = field(field(status.json, 'data'), 'processing_info');
  }
}

/** Reads bytes start..end (inclusive) into `buffer`, which is reused for every chunk. */
async function readRange(access: MediaAccess, file: MediaInfo, start: number, end: number, buffer: Buffer): Promise<Buffer> {
  const expected = end - start + 1;
  const stream = await access.stream(file, { start, end });
  let filled = 0;
  for await (const piece of stream) {
    if (!(piece instanceof Uint8Array)) throw new Error(`media ${file.id} streamed text instead of bytes`);
    const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (filled + bytes.length > expected) {
      stream.destroy();
      throw new Error(`media ${file.id} returned more bytes than the range ${start}-${end}`);
    }
    bytes.copy(buffer, filled);
    filled += bytes.length;
  }
  if (filled !== expected) throw new Error(`media ${file.id} ended at byte ${start + filled} of ${file.sizeBytes}`);
  return buffer.subarray(0, filled);
}
