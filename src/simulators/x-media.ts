/**
 * X's v2 media upload (platform-apis.md §3.4): initialize with the declared type, size and
 * category; append segments as multipart (counted and hashed as they stream, never stored);
 * finalize, which checks the bytes add up to total_bytes; and the STATUS of videos and GIFs,
 * which go pending → in_progress → succeeded (or failed) one step per status read. The
 * one-shot upload of small images is here too.
 */
import type { XAccountSpec, XSimulatorOptions } from './x.js';
import { NumericIds } from './ids.js';
import { sniffType } from './media-fetch.js';
import { json, receivedFile, type SimRequest, type SimResponse } from './server.js';
import { invalidRequest, isRecord, problem } from './x-shapes.js';

const MB = 1024 * 1024;
/** media_category → the media types it takes and its size cap (§3.8). */
const CATEGORIES: Record<string, { types: RegExp; maxBytes: number }> = {
  tweet_image: { types: /^image\/(jpeg|png|webp|bmp|pjpeg|tiff)$/, maxBytes: 5 * MB },
  tweet_gif: { types: /^image\/gif$/, maxBytes: 15 * MB },
  tweet_video: { types: /^video\/(mp4|webm|quicktime|mp2t)$/, maxBytes: 512 * MB },
  amplify_video: { types: /^video\/(mp4|webm|quicktime|mp2t)$/, maxBytes: 512 * MB },
  dm_image: { types: /^image\/(jpeg|png|webp|bmp|pjpeg|tiff)$/, maxBytes: 5 * MB },
  dm_gif: { types: /^image\/gif$/, maxBytes: 15 * MB },
  dm_video: { types: /^video\/(mp4|webm|quicktime|mp2t)$/, maxBytes: 512 * MB },
};
const MEDIA_LIFETIME_SEC = 86_400;

export interface Upload {
  id: string;
  mediaKey: string;
  ownerId: string;
  mediaType: string;
  category: string;
  totalBytes: number;
  /** segment_index → its size and hash. */
  segments: Map<number, { bytes: number; sha256: string }>;
  received: number;
  head: Buffer;
  state: 'uploading' | 'pending' | 'in_progress' | 'succeeded' | 'failed';
  pollsLeft: number;
  failure?: string | undefined;
  expiresAt: number;
}

export class XMediaUploads {
  private readonly uploads = new Map<string, Upload>();
  private readonly ids = new NumericIds('1880000000000000001');
  /** Videos or GIFs whose processing is set to fail (`XSimulator.failMediaProcessing`). */
  failuresLeft = 0;

  constructor(private readonly options: Pick<XSimulatorOptions, 'mediaProcessing' | 'maxSegmentBytes'>) {}

  initialize(request: SimRequest, account: XAccountSpec): SimResponse {
    const body = request.body.kind === 'json' && isRecord(request.body.value) ? request.body.value : undefined;
    if (!body) return invalidRequest([{ message: 'The request body must be a JSON object with media_type and total_bytes.' }]);
    const mediaType = typeof body.media_type === 'string' ? body.media_type : '';
    const totalBytes = body.total_bytes;
    const category = typeof body.media_category === 'string' ? body.media_category : defaultCategory(mediaType);
    const rule = CATEGORIES[category];
    if (!rule) return invalidRequest([{ message: `$.media_category: ${category} is not a supported media category` }]);
    if (!rule.types.test(mediaType))
      return invalidRequest([{ message: `$.media_type: ${mediaType || '(missing)'} is not valid for media_category ${category}` }]);
    if (typeof totalBytes !== 'number' || !Number.isSafeInteger(totalBytes) || totalBytes <= 0)
      return invalidRequest([{ message: '$.total_bytes: must be a positive integer' }]);
    if (totalBytes > rule.maxBytes) return invalidRequest([{ message: `File size exceeds ${rule.maxBytes} bytes.` }]);
    const upload = this.newUpload(account.id, mediaType, category, totalBytes);
    return json(200, { data: { id: upload.id, media_key: upload.mediaKey, expires_after_secs: MEDIA_LIFETIME_SEC } });
  }

  private newUpload(ownerId: string, mediaType: string, category: string, totalBytes: number): Upload {
    const id = this.ids.take();
    const prefix = category.endsWith('gif') ? '16' : category.endsWith('video') ? '7' : '3';
    const upload: Upload = {
      id,
      mediaKey: `${prefix}_${id}`,
      ownerId,
      mediaType,
      category,
      totalBytes,
      segments: new Map(),
      received: 0,
      head: Buffer.alloc(0),
      state: 'uploading',
      pollsLeft: 0,
      expiresAt: Date.now() + MEDIA_LIFETIME_SEC * 1000,
    };
    this.uploads.set(id, upload);
    return upload;
  }

  /** The account's own upload with this id, while it has not expired. */
  find(id: string | undefined, account: XAccountSpec): Upload | undefined {
    const upload = id ? this.uploads.get(id) : undefined;
    return upload && upload.ownerId === account.id && upload.expiresAt > Date.now() ? upload : undefined;
  }

  append(request: SimRequest, account: XAccountSpec): SimResponse {
    const upload = this.find(request.params[0], account);
    if (!upload)
      return problem(404, 'Not Found Error', `Could not find media with id: [${request.params[0] ?? ''}].`, {}, 'resource-not-found');
    if (upload.state !== 'uploading') return invalidRequest([{ message: 'The media was already finalized.' }]);
    if (request.body.kind !== 'multipart')
      return invalidRequest([{ message: 'append takes multipart/form-data with segment_index and media.' }]);
    const indexText = request.body.fields.segment_index ?? '';
    const index = Number(indexText);
    if (!/^\d+$/.test(indexText) || index > 999) return invalidRequest([{ message: '$.segment_index: must be an integer from 0 to 999' }]);
    if (upload.segments.has(index)) return invalidRequest([{ message: `Segment ${index} was already appended.` }]);
    const file = receivedFile(request.body, 'media');
    if (!file) return invalidRequest([{ message: '$.media: is missing but it is required' }]);
    if (file.bytes > this.options.maxSegmentBytes)
      return invalidRequest([{ message: `Segment size ${file.bytes} exceeds ${this.options.maxSegmentBytes} bytes.` }]);
    if (upload.received + file.bytes > upload.totalBytes)
      return invalidRequest([{ message: `Appended bytes (${upload.received + file.bytes}) exceed total_bytes (${upload.totalBytes}).` }]);
    upload.segments.set(index, { bytes: file.bytes, sha256: file.sha256 });
    upload.received += file.bytes;
    if (index === 0) upload.head = file.head;
    return json(200, { data: { expires_at: Math.floor(upload.expiresAt / 1000) } });
  }

  finalize(request: SimRequest, account: XAccountSpec): SimResponse {
    const upload = this.find(request.params[0], account);
    if (!upload)
      return problem(404, 'Not Found Error', `Could not find media with id: [${request.params[0] ?? ''}].`, {}, 'resource-not-found');
    if (upload.state !== 'uploading') return invalidRequest([{ message: 'The media was already finalized.' }]);
    const contiguous = [...upload.segments.keys()].sort((a, b) => a - b).every((k, i) => k === i);
    if (!contiguous) return invalidRequest([{ message: 'Segments are missing: segment_index must run from 0 without gaps.' }]);
    if (upload.received !== upload.totalBytes)
      return invalidRequest([
        { message: `File size mismatch: total_bytes is ${upload.totalBytes} but ${upload.received} bytes were appended.` },
      ]);
    const sniffed = sniffType(upload.head);
    const matches = sniffed !== undefined && sniffed.split('/')[0] === upload.mediaType.split('/')[0];
    if (upload.category.endsWith('image')) {
      if (!matches) {
        upload.state = 'failed';
        return invalidRequest([{ message: 'Invalid or Unsupported media, Reason: UnsupportedMedia.' }]);
      }
      upload.state = 'succeeded';
      return json(200, { data: this.mediaData(upload, false) });
    }
    // Video and GIF are processed asynchronously: finalize answers pending with check_after_secs.
    if (!matches) upload.failure = 'Invalid or Unsupported media, Reason: UnsupportedMedia.';
    else if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      upload.failure = 'Invalid or Unsupported media, Reason: InvalidContent.';
    }
    upload.state = 'pending';
    upload.pollsLeft = this.options.mediaProcessing.inProgressPolls;
    return json(200, { data: this.mediaData(upload, true) });
  }

  /** GET /2/media/upload?command=STATUS&media_id=…: pending → in_progress (n times) → succeeded or failed. */
  status(request: SimRequest, account: XAccountSpec): SimResponse {
    if (request.query.command !== 'STATUS') return invalidRequest([{ message: '$.command: must be STATUS' }]);
    const upload = this.find(request.query.media_id, account);
    if (!upload)
      return problem(404, 'Not Found Error', `Could not find media with id: [${request.query.media_id ?? ''}].`, {}, 'resource-not-found');
    if (upload.state === 'pending' || upload.state === 'in_progress') {
      if (upload.pollsLeft > 0) {
        upload.pollsLeft -= 1;
        upload.state = 'in_progress';
      } else upload.state = upload.failure ? 'failed' : 'succeeded';
    }
    return json(200, { data: this.mediaData(upload, upload.state !== 'uploading') });
  }

  /** The one-shot upload of small images: multipart `media` with `media_category`. */
  oneShot(request: SimRequest, account: XAccountSpec): SimResponse {
    if (request.body.kind !== 'multipart')
      return invalidRequest([{ message: 'POST /2/media/upload takes multipart/form-data with media and media_category.' }]);
    const file = receivedFile(request.body, 'media');
    const category = request.body.fields.media_category;
    if (!file || !category) return invalidRequest([{ message: '$.media and $.media_category are required' }]);
    const type = sniffType(file.head);
    const rule = CATEGORIES[category];
    if (!rule || !type || !rule.types.test(type) || !category.endsWith('image'))
      return invalidRequest([{ message: 'Invalid or Unsupported media, Reason: UnsupportedMedia.' }]);
    if (file.bytes > rule.maxBytes) return invalidRequest([{ message: `File size exceeds ${rule.maxBytes} bytes.` }]);
    const upload = this.newUpload(account.id, type, category, file.bytes);
    upload.segments.set(0, { bytes: file.bytes, sha256: file.sha256 });
    upload.received = file.bytes;
    upload.head = file.head;
    upload.state = 'succeeded';
    return json(200, { data: { ...this.mediaData(upload, false), size: file.bytes } });
  }

  private mediaData(upload: Upload, withProcessing: boolean): Record<string, unknown> {
    const data: Record<string, unknown> = {
      id: upload.id,
      media_key: upload.mediaKey,
      size: upload.totalBytes,
      expires_after_secs: Math.max(0, Math.floor((upload.expiresAt - Date.now()) / 1000)),
    };
    if (!withProcessing) return data;
    const info: Record<string, unknown> = { state: upload.state };
    if (upload.state === 'pending' || upload.state === 'in_progress') info.check_after_secs = this.options.mediaProcessing.checkAfterSecs;
    info.progress_percent = upload.state === 'succeeded' ? 100 : upload.state === 'in_progress' ? 50 : 0;
    if (upload.state === 'failed') info.error = { code: 1, name: 'InvalidMedia', message: upload.failure };
    data.processing_info = info;
    return data;
  }
}

function defaultCategory(mediaType: string): string {
  if (mediaType === 'image/gif') return 'tweet_gif';
  return mediaType.startsWith('video/') ? 'tweet_video' : 'tweet_image';
}
