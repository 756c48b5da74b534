/**
 * LinkedIn's Images and Videos APIs (more-platforms.md §1.5): an image is initialized and PUT
 * whole in one streamed request (several PUTs to one image URL overwrite each other); a video
 * is initialized with its size, each `uploadInstructions` range PUT in order (streamed by byte
 * range from the media store, so one part at most is in flight), each part's ETag kept for
 * finalizeUpload, then its status polled until AVAILABLE.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaAccess, MediaInfo } from '../../media/media.js';
import { arrayField, numberField, objectField, stringField } from '../json.js';
import { checkedCall, encodeUrn, isOrganization, LinkedinCallFailed, restCall, type LinkedinApi } from './api.js';

/** A part is a few MB; allow slow links well beyond the default 60 s answer timeout. */
const PUT_TIMEOUT_MS = 15 * 60_000;

export interface UploadOptions {
  api: LinkedinApi;
  media: MediaAccess;
  /** The author of the post, who owns the uploads. */
  owner: string;
  pollIntervalMs: number;
  maxWaitMs: number;
  onBytesSent(bytes: number): void;
  onProcessing(): void;
}

/** Uploads one image and returns its `urn:li:image:…` once LinkedIn can attach it. */
export async function uploadImage(file: MediaInfo, options: UploadOptions): Promise<string> {
  const init = await restCall(
    options.api,
    '/rest/images?action=initializeUpload',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ initializeUploadRequest: { owner: options.owner } }),
    },
    'upload',
  );
  const value = objectField(init.json, 'value');
  const uploadUrl = stringField(value, 'uploadUrl');
  const image = stringField(value, 'image');
  if (!uploadUrl || !image) throw malformed('the image upload');
  await putRange(options, uploadUrl, file, { start: 0, end: file.sizeBytes - 1 });
  options.onBytesSent(file.sizeBytes);
  // An image's status needs a Page's token (a member's gets 403): a Page's is polled, a
  // member's image is attached at once, which LinkedIn accepts once the bytes are in.
  if (isOrganization(options.owner)) await waitAvailable(options, `/rest/images/${encodeUrn(image)}`, file);
  return image;
}

/** Uploads one video part by part and returns its `urn:li:video:…` once AVAILABLE. */
export async function uploadVideo(file: MediaInfo, options: UploadOptions): Promise<string> {
  const init = await restCall(
    options.api,
    '/rest/videos?action=initializeUpload',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        initializeUploadRequest: { owner: options.owner, fileSizeBytes: file.sizeBytes, uploadCaptions: false, uploadThumbnail: false },
      }),
    },
    'upload',
  );
  const value = objectField(init.json, 'value');
  const video = stringField(value, 'video');
  const uploadToken = stringField(value, 'uploadToken') ?? '';
  const instructions = arrayField(value, 'uploadInstructions').map((i) => ({
    url: stringField(i, 'uploadUrl'),
    start: numberField(i, 'firstByte'),
    end: numberField(i, 'lastByte'),
  }));
  if (!video || instructions.length === 0) throw malformed('the video upload');
  // The ranges must cover the file exactly, in order: anything else would post a broken video.
  let expected = 0;
  for (const part of instructions) {
    if (!part.url || part.start !== expected || part.end === undefined || part.end < part.start) throw malformed('the video upload');
    expected = part.end + 1;
  }
  if (expected !== file.sizeBytes) throw malformed('the video upload');

  const etags: string[] = [];
  for (const part of instructions) {
    const range = { start: part.start ?? 0, end: part.end ?? 0 };
    const answer = await putRange(options, part.url ?? '', file, range);
    const etag = answer.headers.get('etag');
    if (!etag) throw malformed('a video part');
    etags.push(etag);
    options.onBytesSent(range.end - range.start + 1);
  }
  await restCall(
    options.api,
    '/rest/videos?action=finalizeUpload',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ finalizeUploadRequest: { video, uploadToken, uploadedPartIds: etags } }),
    },
    'upload',
  );
  await waitAvailable(options, `/rest/videos/${encodeUrn(video)}`, file);
  return video;
}

/** One streamed PUT of bytes start..end (inclusive) of the file. */
async function putRange(options: UploadOptions, url: string, file: MediaInfo, range: { start: number; end: number }) {
  const stream = await options.media.stream(file, range);
  try {
    return await checkedCall(
      url,
      {
        method: 'PUT',
        headers: {
          Authorization: `Bearer ${options.api.accessToken}`,
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(range.end - range.start + 1),
        },
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        timeoutMs: PUT_TIMEOUT_MS,
        signal: options.api.signal,
      },
      'upload',
    );
  } finally {
    stream.destroy();
  }
}

/** Polls an image or video until AVAILABLE; PROCESSING_FAILED is the file's fault. */
async function waitAvailable(options: UploadOptions, path: string, file: MediaInfo): Promise<void> {
  const started = Date.now();
  const name = file.originalName ?? `the ${file.kind}`;
  for (;;) {
    const answer = await restCall(options.api, path, {}, 'upload');
    const status = stringField(answer.json, 'status');
    if (status === 'AVAILABLE') return;
    if (status === 'PROCESSING_FAILED') {
      const reason = stringField(answer.json, 'processingFailureReason') ?? 'it could not be processed';
      throw new LinkedinCallFailed({
        class: 'content',
        message: `LinkedIn could not process ${name} (${reason.replace(/\.$/, '')}); change the file before posting again.`,
        platformCode: 'linkedin:PROCESSING_FAILED',
      });
    }
    options.onProcessing();
    if (Date.now() - started + options.pollIntervalMs > options.maxWaitMs)
      throw new LinkedinCallFailed({
        class: 'retryable',
        message: `LinkedIn was still processing ${name} after ${Math.round((Date.now() - started) / 1000)} seconds; nothing was posted, try again later.`,
        platformCode: 'linkedin:processing-timeout',
      });
    await sleep(options.pollIntervalMs, undefined, { signal: options.api.signal });
  }
}

function malformed(what: string): LinkedinCallFailed {
  return new LinkedinCallFailed({
    class: 'retryable',
    message: `LinkedIn answered ${what} with something IQSP cannot use; nothing was posted, try again.`,
    platformCode: 'linkedin:malformed',
  });
}
