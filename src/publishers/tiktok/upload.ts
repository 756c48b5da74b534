/**
 * FILE_UPLOAD transfer: the chunks go up in order with PUT to the `upload_url` from init, each
 * read from the media store by byte range and streamed, so one chunk at most is in flight and
 * a large video is never held in memory.
 */
import { Readable } from 'node:stream';
import type { MediaAccess, MediaInfo } from '../../media/media.js';
import { httpRequest } from '../http.js';
import type { PublishProgress } from '../publisher.js';
import type { ChunkPlan } from './chunks.js';
import { chunkRange, contentRange } from './chunks.js';
import type { TiktokStage } from './errors.js';
import { expectSuccess } from './errors.js';

/** A chunk is up to ~128 MB; allow slow links well beyond the default 60 s answer timeout. */
const CHUNK_TIMEOUT_MS = 15 * 60_000;

export interface ChunkUpload {
  uploadUrl: string;
  video: MediaInfo;
  media: MediaAccess;
  plan: ChunkPlan;
  /**
   * Called before the last chunk. With Direct Post and FILE_UPLOAD the post goes live once
   * TikTok has the whole file, so the last chunk is the committing request: init and the
   * earlier chunks leave nothing live (an unfinished upload just expires at TikTok).
   */
  beforeLastChunk: () => Promise<void>;
  onProgress?: ((progress: PublishProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export async function uploadChunks(upload: ChunkUpload): Promise<void> {
  const { plan } = upload;
  let sent = 0;
  upload.onProgress?.({ phase: 'uploading', bytesSent: 0, bytesTotal: plan.videoSize });
  for (let index = 0; index < plan.totalChunkCount; index += 1) {
    const last = index === plan.totalChunkCount - 1;
    if (last) await upload.beforeLastChunk();
    const range = chunkRange(plan, index);
    await putChunk(upload, range, last ? 'commit' : 'before-commit');
    sent += range.end - range.start + 1;
    upload.onProgress?.({ phase: 'uploading', bytesSent: sent, bytesTotal: plan.videoSize });
  }
}

async function putChunk(upload: ChunkUpload, range: { start: number; end: number }, stage: TiktokStage): Promise<void> {
  const stream = await upload.media.stream(upload.video, range);
  try {
    await expectSuccess(
      httpRequest(upload.uploadUrl, {
        method: 'PUT',
        headers: {
          'Content-Type': upload.video.mimeType,
          'Content-Length': String(range.end - range.start + 1),
          'Content-Range': contentRange(upload.plan, range),
        },
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        timeoutMs: CHUNK_TIMEOUT_MS,
        signal: upload.signal,
      }),
      stage,
    );
  } finally {
    stream.destroy();
  }
}
