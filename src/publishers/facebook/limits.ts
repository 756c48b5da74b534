/**
 * What a Facebook Page post may contain (platform-apis.md §1.5, §1.8), checked before anything
 * is sent. Text-only posts are allowed; photos and a video can't share a post.
 */
import type { MediaInfo } from '../../media/media.js';
import { countCharacters, formatDuration, formatNumber, formatSize, itemName, megabytes, mimeLabel } from '../meta/draft-text.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';
import { withoutThreadSeparators } from '../../core/thread-parts.js';
import { checkReel, isReelShape } from './reels.js';

export const FACEBOOK_LIMITS = {
  /** Community figure (postiz constant); Meta documents none. */
  captionCharacters: 63_206,
  /** Third parties cap multi-photo posts at 10. */
  photos: 10,
  /** The documented advice is under 4 MB; 10 MB is the hard cap third parties quote. */
  photoBytes: megabytes(10),
  videoBytes: megabytes(10 * 1024),
  videoDurationMs: 240 * 60_000,
} as const;

/** Formats the photos edge takes as they are. */
export const PHOTO_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/bmp', 'image/tiff']);
/** WebP is not on Facebook's list, so a JPEG copy is posted instead of refusing it. */
export const PHOTO_TYPES_CONVERTED: ReadonlySet<string> = new Set(['image/webp']);
const VIDEO_TYPES: ReadonlySet<string> = new Set(['video/mp4', 'video/quicktime']);

export function validateFacebookDraft(draft: PostDraft): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const characters = countCharacters(draft.caption);
  if (characters > FACEBOOK_LIMITS.captionCharacters)
    problems.push({
      code: 'caption_too_long',
      message: `Facebook allows ${formatNumber(FACEBOOK_LIMITS.captionCharacters)} characters; this caption counts ${formatNumber(characters)}.`,
    });
  if (draft.media.length === 0 && draft.caption.trim() === '')
    problems.push({ code: 'caption_required', message: 'Facebook needs a caption or media; this post has neither.' });

  const photos = draft.media.filter((m) => m.kind === 'image').length;
  const videos = draft.media.length - photos;
  if (photos > 0 && videos > 0)
    problems.push({
      code: 'media_mix',
      message: `Facebook can't mix photos and a video in one post; this post has ${photos} photo${photos > 1 ? 's' : ''} and ${videos} video${videos > 1 ? 's' : ''}.`,
    });
  else if (videos > 1) problems.push({ code: 'media_count', message: `Facebook allows one video per post; this post has ${videos}.` });
  else if (photos > FACEBOOK_LIMITS.photos)
    problems.push({ code: 'media_count', message: `Facebook allows ${FACEBOOK_LIMITS.photos} photos per post; this post has ${photos}.` });

  draft.media.forEach((media, index) => problems.push(...checkMedia(media, itemName(media, index, draft.media.length))));
  return problems;
}

function checkMedia(media: MediaInfo, name: string): ValidationProblem[] {
  if (media.kind === 'image') return checkPhoto(media, name);
  // A vertical clip up to 90 s goes to Reels, which has rules of its own.
  return isReelShape(media) ? [...checkVideo(media, name), ...checkReel(media, name)] : checkVideo(media, name);
}

function checkPhoto(media: MediaInfo, name: string): ValidationProblem[] {
  if (!PHOTO_TYPES.has(media.mimeType) && !PHOTO_TYPES_CONVERTED.has(media.mimeType))
    return [
      {
        code: 'media_type',
        message: `Facebook accepts JPEG, PNG, GIF, BMP, TIFF or WebP images; ${name} is ${mimeLabel(media.mimeType)}.`,
      },
    ];
  if (media.sizeBytes > FACEBOOK_LIMITS.photoBytes)
    return [
      {
        code: 'media_size',
        message: `Facebook allows photos up to ${formatSize(FACEBOOK_LIMITS.photoBytes)}; ${name} is ${formatSize(media.sizeBytes)}.`,
      },
    ];
  return [];
}

function checkVideo(media: MediaInfo, name: string): ValidationProblem[] {
  if (!VIDEO_TYPES.has(media.mimeType))
    return [{ code: 'media_type', message: `Facebook accepts MP4 or MOV videos; ${name} is ${mimeLabel(media.mimeType)}.` }];
  const problems: ValidationProblem[] = [];
  if (media.sizeBytes > FACEBOOK_LIMITS.videoBytes)
    problems.push({
      code: 'media_size',
      message: `Facebook allows videos up to ${formatSize(FACEBOOK_LIMITS.videoBytes)}; ${name} is ${formatSize(media.sizeBytes)}.`,
    });
  if (media.durationMs !== undefined && media.durationMs > FACEBOOK_LIMITS.videoDurationMs)
    problems.push({
      code: 'video_duration',
      message: `Facebook allows videos up to ${formatDuration(FACEBOOK_LIMITS.videoDurationMs)}; ${name} is ${formatDuration(media.durationMs)}.`,
    });
  return problems;
}

/** The caption (its `---` parts joined, as Facebook is sent it) against Facebook's limit. */
export function measureFacebookText(text: string): TextMeasure[] {
  return [{ used: countCharacters(withoutThreadSeparators(text)), limit: FACEBOOK_LIMITS.captionCharacters, unit: 'characters' }];
}
