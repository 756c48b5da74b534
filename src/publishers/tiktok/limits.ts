/**
 * What TikTok accepts, checked before anything is sent (platform-apis.md §4.5, §4.6, §4.11).
 * Lengths are UTF-16 code units, as TikTok counts them (a JavaScript string's length).
 * Limits that depend on the creator (maximum duration, allowed privacy levels) come from
 * creator_info and are checked when publishing.
 */
import type { MediaInfo } from '../../media/media.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';
import { withoutThreadSeparators } from '../../core/thread-parts.js';
import { PRIVACY_WORDS, isPrivacyWord, privacyOption, targetList } from './privacy.js';

export const MAX_VIDEO_CAPTION = 2_200;
export const MAX_PHOTO_TITLE = 90;
export const MAX_PHOTO_DESCRIPTION = 4_000;
export const MAX_PHOTOS = 35;
const MIB = 1024 * 1024;
export const MAX_PHOTO_BYTES = 20 * MIB;
export const MAX_VIDEO_BYTES = 4 * 1024 * MIB;
/** The longest any creator may post through the API; each creator's own cap comes from creator_info. */
export const MAX_VIDEO_SECONDS = 600;
export const MIN_VIDEO_SIDE = 360;
export const MAX_VIDEO_SIDE = 4096;

export const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/webm'];
/** TikTok takes JPEG and WebP photos; PNG is accepted here and sent as a JPEG copy. */
export const PHOTO_TYPES = ['image/jpeg', 'image/webp'];
export const CONVERTED_PHOTO_TYPES = ['image/png'];

export function validateTiktokDraft(draft: PostDraft): ValidationProblem[] {
  return [...privacyProblems(draft), ...mediaProblems(draft.media), ...captionProblems(draft)];
}

function privacyProblems(draft: PostDraft): ValidationProblem[] {
  const value = privacyOption(draft.options);
  if (value === undefined)
    return [{ code: 'privacy_required', message: `TikTok needs a privacy level: add ${targetList(PRIVACY_WORDS)} to the targets.` }];
  if (!isPrivacyWord(value))
    return [
      { code: 'privacy_invalid', message: `TikTok privacy must be public, friends, followers or private; "${value}" is not one of them.` },
    ];
  return [];
}

function mediaProblems(media: readonly MediaInfo[]): ValidationProblem[] {
  const videos = media.filter((m) => m.kind === 'video');
  const photos = media.filter((m) => m.kind === 'image');
  if (media.length === 0)
    return [{ code: 'media_required', message: `TikTok needs one video or 1 to ${MAX_PHOTOS} photos; this post has no media.` }];
  if (videos.length > 0 && photos.length > 0)
    return [
      {
        code: 'media_mix',
        message: `TikTok posts either one video or photos, not both; this post has ${count(videos.length, 'video')} and ${count(photos.length, 'photo')}.`,
      },
    ];
  if (videos.length > 1) return [{ code: 'media_count', message: `TikTok allows one video per post; this post has ${videos.length}.` }];
  if (photos.length > MAX_PHOTOS)
    return [{ code: 'media_count', message: `TikTok allows up to ${MAX_PHOTOS} photos per post; this post has ${photos.length}.` }];
  const video = videos[0];
  return video
    ? videoProblems(video)
    : photos.flatMap((photo, i) => photoProblems(photo, photos.length > 1 ? `photo ${i + 1}` : 'the photo'));
}

function videoProblems(video: MediaInfo): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (!VIDEO_TYPES.includes(video.mimeType))
    problems.push({ code: 'media_type', message: `TikTok accepts MP4, MOV or WebM videos; this video is ${video.mimeType}.` });
  if (video.sizeBytes > MAX_VIDEO_BYTES)
    problems.push({ code: 'media_size', message: `TikTok allows videos up to 4 GB; this video is ${formatBytes(video.sizeBytes)}.` });
  // IQSP reads the length of MP4 and MOV; a WebM's (or a damaged file's) cannot be checked before approval.
  if (video.durationMs === undefined)
    problems.push({
      code: 'video_duration',
      message: `TikTok allows videos up to ${MAX_VIDEO_SECONDS} seconds, and IQSP could not read how long this video is (it reads MP4 and MOV); send it as MP4 or MOV.`,
    });
  else if (video.durationMs > MAX_VIDEO_SECONDS * 1000)
    problems.push({
      code: 'video_duration',
      message: `TikTok allows videos up to ${MAX_VIDEO_SECONDS} seconds; this video lasts ${formatSeconds(video.durationMs)} seconds.`,
    });
  const { width, height } = video;
  if (width !== undefined && height !== undefined && [width, height].some((side) => side < MIN_VIDEO_SIDE || side > MAX_VIDEO_SIDE))
    problems.push({
      code: 'video_dimensions',
      message: `TikTok needs videos of ${MIN_VIDEO_SIDE} to ${MAX_VIDEO_SIDE} pixels on each side; this video is ${width}×${height}.`,
    });
  return problems;
}

function photoProblems(photo: MediaInfo, name: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (!PHOTO_TYPES.includes(photo.mimeType) && !CONVERTED_PHOTO_TYPES.includes(photo.mimeType))
    problems.push({ code: 'media_type', message: `TikTok accepts JPEG, WebP or PNG photos; ${name} is ${photo.mimeType}.` });
  if (photo.sizeBytes > MAX_PHOTO_BYTES)
    problems.push({ code: 'media_size', message: `TikTok allows photos up to 20 MB; ${name} is ${formatBytes(photo.sizeBytes)}.` });
  return problems;
}

function captionProblems(draft: PostDraft): ValidationProblem[] {
  const isPhotoPost = draft.media.length > 0 && draft.media.every((m) => m.kind === 'image');
  if (isPhotoPost) {
    const { description } = photoText(draft.caption);
    return description.length > MAX_PHOTO_DESCRIPTION
      ? [
          {
            code: 'caption_too_long',
            message: `TikTok allows ${MAX_PHOTO_DESCRIPTION.toLocaleString('en-US')} characters in a photo post's description; this caption counts ${description.length.toLocaleString('en-US')}.`,
          },
        ]
      : [];
  }
  return draft.caption.length > MAX_VIDEO_CAPTION
    ? [
        {
          code: 'caption_too_long',
          message: `TikTok allows ${MAX_VIDEO_CAPTION.toLocaleString('en-US')} characters in a video caption; this caption counts ${draft.caption.length.toLocaleString('en-US')}.`,
        },
      ]
    : [];
}

/**
 * A photo post has a short title (≤ 90) and a long description (≤ 4,000). A caption whose first
 * line fits the title and is followed by more text is split there; any other caption goes
 * whole into the description, so the text is never cut.
 */
export function photoText(caption: string): { title?: string; description: string } {
  const text = caption.trim();
  const newline = text.indexOf('\n');
  if (newline > 0) {
    const title = text.slice(0, newline).trim();
    const description = text.slice(newline + 1).trim();
    if (title.length <= MAX_PHOTO_TITLE && description !== '') return { title, description };
  }
  return { description: text };
}

/** "12.5" or "600" */
export function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * MIB ? `${(bytes / (1024 * MIB)).toFixed(1)} GB` : `${(bytes / MIB).toFixed(1)} MB`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The caption (its `---` parts joined) against TikTok's video caption limit, as `validate` counts it. */
export function measureTiktokText(text: string): TextMeasure[] {
  return [{ used: withoutThreadSeparators(text).length, limit: MAX_VIDEO_CAPTION, unit: 'characters' }];
}
