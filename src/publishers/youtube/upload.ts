/**
 * YouTube's resumable upload (more-platforms.md §2.4; developers.google.com/youtube/v3/guides/
 * using_resumable_upload_protocol):
 *
 * 1. `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status` with the metadata
 *    as JSON and the file's length and type in `X-Upload-Content-*`: the session URI comes back
 *    in `Location`. It is kept for this attempt only (it lets anyone holding it upload), never
 *    logged or stored.
 * 2. `PUT <session>` with `Content-Range: bytes a-b/total`, each range streamed from the media
 *    store; every request but the last carries a multiple of 256 KiB. `308` + `Range: bytes=0-n`
 *    means YouTube holds bytes 0..n (maybe fewer than were sent): continue from n+1; no `Range`
 *    means it holds nothing.
 * 3. After a network error, a 5xx or a 429, `PUT` with `Content-Range: bytes *\/total` (the status
 *    probe) says where to resume, with backoff; 404/410 means the session
 *    expired: start a new one.
 * 4. Nothing exists at YouTube until the last byte arrives, and the answer to it (or to a
 *    later probe) is the video resource: an answer lost on the way is recovered by probing,
 *    never by uploading again.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaAccess, MediaInfo } from '../../media/media.js';
import type { HttpResponse } from '../http.js';
import { NetworkError, httpRequest } from '../http.js';
import type { PublishProgress } from '../publisher.js';
import { PublishFailed, expectSuccess, mapYoutubeError } from './errors.js';
import { apiError, stringField } from './json.js';
import type { YoutubeSettings } from './options.js';

/** Interruptions in a row (no byte gained between them) before giving up on this attempt. */
export const MAX_INTERRUPTIONS = 5;
/** New sessions after an expired one, per attempt. */
const MAX_RESTARTS = 1;
/** An upload request carries up to a chunk; allow slow links well beyond the default 60 s. */
const CHUNK_TIMEOUT_MS = 15 * 60_000;

export interface VideoUpload {
  settings: YoutubeSettings;
  accessToken: string;
  video: MediaInfo;
  media: MediaAccess;
  /** `{snippet, status}` of videos.insert. */
  metadata: Record<string, unknown>;
  /** Called once, before the first request that sends the file's last byte. */
  beforeCommit(): Promise<void>;
  onProgress?: ((progress: PublishProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface UploadedVideo {
  id: string;
  /** The video resource YouTube answered with. */
  resource: unknown;
}

/** Whether the request that sends the last byte has gone out (then a lost answer is `unknown`). */
export interface UploadState {
  committed: boolean;
}

export async function uploadVideo(upload: VideoUpload, state: UploadState): Promise<UploadedVideo> {
  const total = upload.video.sizeBytes;
  let session = await startSession(upload);
  let restarts = 0;
  let offset = 0;
  let interruptions = 0;
  let probe = false;
  upload.onProgress?.({ phase: 'uploading', bytesSent: 0, bytesTotal: total });
  for (;;) {
    let response: HttpResponse;
    try {
      // Holding every byte without having answered with the video: only the probe can tell.
      if (probe || offset >= total) {
        await sleep(upload.settings.retryDelayMs * 2 ** Math.max(0, interruptions - 1), undefined, { signal: upload.signal });
        response = await sendProbe(upload, session);
      } else {
        const end = Math.min(offset + upload.settings.chunkBytes, total) - 1;
        if (end === total - 1 && !state.committed) {
          await upload.beforeCommit();
          state.committed = true;
          upload.onProgress?.({ phase: 'publishing' });
        }
        response = await sendRange(upload, session, offset, end);
      }
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      interruptions += 1;
      if (interruptions > MAX_INTERRUPTIONS) throw new PublishFailed(gaveUp(state, error.message));
      probe = true;
      continue;
    }

    if (response.status === 200 || response.status === 201) {
      const id = stringField(response.json, 'id');
      if (!id)
        throw new PublishFailed({
          class: 'unknown',
          message:
            'YouTube finished the upload without a video id, so the video may or may not be live; check the channel before posting again.',
          platformCode: 'youtube:no_video_id',
        });
      upload.onProgress?.({ phase: 'uploading', bytesSent: total, bytesTotal: total });
      return { id, resource: response.json };
    }
    if (response.status === 308) {
      const held = heldBytes(response.headers.get('range'));
      if (held > offset) interruptions = 0;
      offset = held;
      probe = false;
      upload.onProgress?.({ phase: 'uploading', bytesSent: offset, bytesTotal: total });
      continue;
    }
    if (response.status === 404 || response.status === 410) {
      // An expired session after the last byte went out may have finished first: only the channel can tell.
      if (state.committed || restarts >= MAX_RESTARTS) throw new PublishFailed(expired(state));
      restarts += 1;
      session = await startSession(upload);
      offset = 0;
      interruptions = 0;
      probe = false;
      continue;
    }
    if (response.status >= 500 || response.status === 429 || apiError(response.json)?.reason === 'backendError') {
      interruptions += 1;
      if (interruptions > MAX_INTERRUPTIONS) throw new PublishFailed(gaveUp(state, `HTTP ${response.status}`));
      probe = true;
      continue;
    }
    // Once the last byte went out and its answer was lost, a refusal of the probe (an access token
    // that ran out, a quota) says nothing of whether the video exists: sending it again could make two.
    if (state.committed && probe)
      throw new PublishFailed({
        class: 'unknown',
        message: `YouTube refused to say whether the upload finished (HTTP ${response.status}) after its last bytes went out, so the video may or may not be live; check the channel before posting again.`,
        platformCode: mapYoutubeError(response.status, response.headers, response.json, 'before-commit').platformCode,
      });
    // A refusal (4xx) of a request that carried bytes creates nothing.
    throw new PublishFailed(mapYoutubeError(response.status, response.headers, response.json, 'before-commit'));
  }
}

/** Step 1: the session URI from `Location`. */
async function startSession(upload: VideoUpload): Promise<string> {
  const { settings, video } = upload;
  const response = await expectSuccess(
    httpRequest(`${settings.apiUrl}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${upload.accessToken}`,
        'Content-Type': 'application/json; charset=UTF-8',
        'X-Upload-Content-Length': String(video.sizeBytes),
        'X-Upload-Content-Type': video.mimeType,
      },
      body: JSON.stringify(upload.metadata),
      signal: upload.signal,
    }),
    'before-commit',
  );
  const location = response.headers.get('location');
  if (!location)
    throw new PublishFailed({
      class: 'retryable',
      message: 'YouTube did not return an upload address for the video; the post will be tried again shortly.',
      retryAfterMs: 60_000,
      platformCode: 'youtube:no_upload_session',
    });
  return new URL(location, settings.apiUrl).toString();
}

/** Step 2: bytes start..end (inclusive), streamed by range from the media store. */
async function sendRange(upload: VideoUpload, session: string, start: number, end: number): Promise<HttpResponse> {
  const stream = await upload.media.stream(upload.video, { start, end });
  try {
    return await httpRequest(session, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${upload.accessToken}`,
        'Content-Type': upload.video.mimeType,
        'Content-Length': String(end - start + 1),
        'Content-Range': `bytes ${start}-${end}/${upload.video.sizeBytes}`,
      },
      body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
      timeoutMs: CHUNK_TIMEOUT_MS,
      signal: upload.signal,
    });
  } finally {
    stream.destroy();
  }
}

/** Step 3: where the session stands (`308` + `Range`), or the finished video (`200`/`201`). */
function sendProbe(upload: VideoUpload, session: string): Promise<HttpResponse> {
  return httpRequest(session, {
    method: 'PUT',
    headers: {
      Authorization: `Bearer ${upload.accessToken}`,
      'Content-Length': '0',
      'Content-Range': `bytes */${upload.video.sizeBytes}`,
    },
    timeoutMs: 30_000,
    signal: upload.signal,
  });
}

/** `Range: bytes=0-n` → n + 1 bytes held; no header → none. */
export function heldBytes(range: string | null): number {
  const match = range ? /^bytes=0-(\d+)$/.exec(range.trim()) : null;
  return match ? Number(match[1]) + 1 : 0;
}

function gaveUp(state: UploadState, reason: string) {
  return state.committed
    ? {
        class: 'unknown' as const,
        message: `YouTube did not confirm the upload's end (${reason}), so the video may or may not be live; check the channel before posting again.`,
        platformCode: 'youtube:upload_interrupted',
      }
    : {
        class: 'retryable' as const,
        message: `The upload to YouTube kept being interrupted (${reason}); nothing was published, and the post will be tried again shortly.`,
        retryAfterMs: 60_000,
        platformCode: 'youtube:upload_interrupted',
      };
}

function expired(state: UploadState) {
  return state.committed
    ? {
        class: 'unknown' as const,
        message:
          "YouTube's upload session ended after the last bytes were sent, so the video may or may not be live; check the channel before posting again.",
        platformCode: 'youtube:session_expired',
      }
    : {
        class: 'retryable' as const,
        message: "YouTube's upload session expired again; nothing was published, and the post will be tried again shortly.",
        retryAfterMs: 60_000,
        platformCode: 'youtube:session_expired',
      };
}
