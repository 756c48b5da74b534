/**
 * Instagram's error mapping: Meta's shared codes plus the content-publishing subcodes
 * (platform-apis.md §2.6). The same table explains a container's ERROR status.
 */
import { redactText } from '../../observability/redact.js';
import { mapMetaError, readGraphError, type MetaErrorRule, type MetaErrorTable, type PublishStage } from '../meta/errors.js';
import type { Failure } from '../publisher.js';

const content = (message: (detail: string) => string): MetaErrorRule => ({ class: 'content', message });
const retryable = (message: (detail: string) => string): MetaErrorRule => ({ class: 'retryable', message });

/** "Media ID is not available": media_publish ran before Instagram was ready; nothing was posted. */
const MEDIA_NOT_READY_CODE = 9007;
const MEDIA_NOT_READY_SUBCODE = 2207027;

const mediaNotReady = retryable(() => 'Instagram had not finished preparing the media; the post will be tried again.');
const fetchFailed = content(
  (d) => `Instagram could not download the media from IQSP (${d}); make sure PUBLIC_URL is reachable from the internet, then post again.`,
);

const INSTAGRAM_ERRORS: MetaErrorTable = {
  platform: 'Instagram',
  subcodes: {
    [MEDIA_NOT_READY_SUBCODE]: mediaNotReady,
    2207052: fetchFailed,
    2207001: retryable(() => 'Instagram had a server error; nothing was posted and it will be tried again.'),
    2207003: retryable(() => 'Instagram timed out downloading the media; nothing was posted and it will be tried again.'),
    2207020: retryable(() => 'The prepared Instagram media expired before publishing; it will be prepared again.'),
    2207032: retryable(() => 'Instagram failed to prepare the media; nothing was posted and it will be tried again.'),
    2207053: retryable(() => 'Instagram hit an unknown upload error; nothing was posted and it will be tried again.'),
    2207042: retryable(() => 'This Instagram account reached its daily publishing limit; the post will be tried again later.'),
    2207004: content(() => 'Instagram allows images up to 8 MB; make the image smaller.'),
    2207005: content(() => 'Instagram does not support this image format; use a JPEG.'),
    2207009: content(() => 'Instagram refused the aspect ratio; use images between 4:5 and 1.91:1.'),
    2207010: content(() => 'Instagram allows 2,200 characters, 30 hashtags and 20 @-mentions in a caption; shorten it.'),
    2207026: content(() => 'Instagram does not support this video format; use an H.264 or HEVC MP4 or MOV.'),
    2207028: content((d) => `Instagram refused the carousel (${d}); use 2 to 10 images or videos.`),
    2207050: content(() => 'This Instagram account is restricted and cannot publish right now; check it in the Instagram app.'),
    2207051: content(() => 'Instagram blocked this post as spam; change the post before trying again.'),
    2207057: content((d) => `Instagram refused the video cover position (${d}); change the video.`),
  },
  codes: {
    [MEDIA_NOT_READY_CODE]: mediaNotReady,
    9004: fetchFailed,
    36003: content(() => 'Instagram refused the aspect ratio; use images between 4:5 and 1.91:1.'),
  },
};

/** Instagram's answer (status, headers, body) at a given stage of a publish, as a Failure. */
export function mapInstagramError(status: number, headers: Headers, body: unknown, stage: PublishStage): Failure {
  return mapMetaError(INSTAGRAM_ERRORS, status, headers, body, stage);
}

/** 9007 / 2207027: publishing too early, which a short wait fixes. */
export function isMediaNotReady(body: unknown): boolean {
  const info = readGraphError(body);
  return info?.code === MEDIA_NOT_READY_CODE || info?.subcode === MEDIA_NOT_READY_SUBCODE;
}

/**
 * Why a container ended in ERROR: its `status` reads like "Error: ... error code 2207026";
 * a known subcode gets its sentence, otherwise Instagram's own words are used.
 */
export function containerErrorMessage(statusText: string | undefined): string {
  const subcode = Number(/\b(2207\d{3})\b/.exec(statusText ?? '')?.[1]);
  const known = INSTAGRAM_ERRORS.subcodes[subcode];
  if (known && known.class === 'content') return known.message(statusText ?? '');
  const reason = redactText(statusText ?? '')
    .trim()
    .replace(/[.\s]+$/, '');
  return `Instagram could not process the media (${reason || 'no reason given'}); change it and post again.`;
}
