/**
 * What an Instagram post may contain (platform-apis.md §2.5, §2.7), checked before anything is
 * sent. Every post needs media; images must end up as JPEG, which PNG and WebP can become.
 */
import type { MediaInfo } from '../../media/media.js';
import {
  countCharacters,
  formatDuration,
  formatNumber,
  formatRatio,
  formatSize,
  itemName,
  megabytes,
  mimeLabel,
} from '../meta/draft-text.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';
import { withoutThreadSeparators } from '../../core/thread-parts.js';

export const INSTAGRAM_LIMITS = {
  captionCharacters: 2_200,
  hashtags: 30,
  mentions: 20,
  carouselItems: 10,
  imageBytes: megabytes(8),
  /** 4:5 portrait to 1.91:1 landscape. */
  imageMinRatio: 4 / 5,
  imageMaxRatio: 1.91,
  videoBytes: megabytes(300),
  videoMinMs: 3_000,
  videoMaxMs: 15 * 60_000,
  videoMaxWidth: 1_920,
  videoMinRatio: 0.01,
  videoMaxRatio: 10,
} as const;

/** The only image format Instagram takes. */
export const JPEG = 'image/jpeg';
/** Accepted from people, and published as their JPEG copy. */
export const CONVERTIBLE_TO_JPEG: ReadonlySet<string> = new Set(['image/png', 'image/webp']);
const VIDEO_TYPES: ReadonlySet<string> = new Set(['video/mp4', 'video/quicktime']);

const HASHTAG = /(?:^|[^\p{L}\p{N}_&])#[\p{L}\p{N}_]+/gu;
const MENTION = /(?:^|[^\p{L}\p{N}_.])@[\p{L}\p{N}_.]+/gu;

export function validateInstagramDraft(draft: PostDraft): ValidationProblem[] {
  const problems: ValidationProblem[] = [...checkCaption(draft.caption)];
  const count = draft.media.length;
  if (count === 0) problems.push({ code: 'media_required', message: 'Instagram needs at least one image or video; this post has none.' });
  if (count > INSTAGRAM_LIMITS.carouselItems)
    problems.push({
      code: 'media_count',
      message: `Instagram allows ${INSTAGRAM_LIMITS.carouselItems} images or videos per post; this post has ${count}.`,
    });
  draft.media.forEach((media, index) => problems.push(...checkMedia(media, itemName(media, index, count))));
  return problems;
}

function checkCaption(caption: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const characters = countCharacters(caption);
  if (characters > INSTAGRAM_LIMITS.captionCharacters)
    problems.push({
      code: 'caption_too_long',
      message: `Instagram allows ${formatNumber(INSTAGRAM_LIMITS.captionCharacters)} characters; this caption counts ${formatNumber(characters)}.`,
    });
  const hashtags = caption.match(HASHTAG)?.length ?? 0;
  if (hashtags > INSTAGRAM_LIMITS.hashtags)
    problems.push({
      code: 'hashtag_count',
      message: `Instagram allows ${INSTAGRAM_LIMITS.hashtags} hashtags; this caption has ${hashtags}.`,
    });
  const mentions = caption.match(MENTION)?.length ?? 0;
  if (mentions > INSTAGRAM_LIMITS.mentions)
    problems.push({
      code: 'mention_count',
      message: `Instagram allows ${INSTAGRAM_LIMITS.mentions} @-mentions; this caption has ${mentions}.`,
    });
  return problems;
}

function checkMedia(media: MediaInfo, name: string): ValidationProblem[] {
  return media.kind === 'image' ? checkImage(media, name) : checkVideo(media, name);
}

function checkImage(media: MediaInfo, name: string): ValidationProblem[] {
  if (media.mimeType !== JPEG && !CONVERTIBLE_TO_JPEG.has(media.mimeType))
    return [{ code: 'media_type', message: `Instagram accepts JPEG, PNG or WebP images; ${name} is ${mimeLabel(media.mimeType)}.` }];
  const problems: ValidationProblem[] = [];
  // PNG and WebP are checked again after conversion: their JPEG copy is what Instagram gets.
  if (media.mimeType === JPEG) problems.push(...checkImageSize(media.sizeBytes, name));
  if (media.width && media.height) {
    const ratio = media.width / media.height;
    if (ratio < INSTAGRAM_LIMITS.imageMinRatio - 1e-9 || ratio > INSTAGRAM_LIMITS.imageMaxRatio + 1e-9)
      problems.push({
        code: 'aspect_ratio',
        message: `Instagram allows images from 4:5 (0.8:1) to 1.91:1; ${name} is ${media.width}×${media.height} (${formatRatio(ratio)}).`,
      });
  }
  return problems;
}

export function checkImageSize(sizeBytes: number, name: string): ValidationProblem[] {
  if (sizeBytes <= INSTAGRAM_LIMITS.imageBytes) return [];
  return [
    {
      code: 'media_size',
      message: `Instagram allows images up to ${formatSize(INSTAGRAM_LIMITS.imageBytes)}; ${name} is ${formatSize(sizeBytes)}.`,
    },
  ];
}

function checkVideo(media: MediaInfo, name: string): ValidationProblem[] {
  if (!VIDEO_TYPES.has(media.mimeType))
    return [{ code: 'media_type', message: `Instagram accepts MP4 or MOV videos; ${name} is ${mimeLabel(media.mimeType)}.` }];
  const problems: ValidationProblem[] = [];
  if (media.sizeBytes > INSTAGRAM_LIMITS.videoBytes)
    problems.push({
      code: 'media_size',
      message: `Instagram allows videos up to ${formatSize(INSTAGRAM_LIMITS.videoBytes)}; ${name} is ${formatSize(media.sizeBytes)}.`,
    });
  const duration = media.durationMs;
  if (duration === undefined)
    problems.push({
      code: 'video_duration',
      message: `Instagram allows videos from ${formatDuration(INSTAGRAM_LIMITS.videoMinMs)} to ${formatDuration(INSTAGRAM_LIMITS.videoMaxMs)}, and IQSP could not read how long ${name} is; export it again as MP4 or MOV.`,
    });
  else if (duration < INSTAGRAM_LIMITS.videoMinMs || duration > INSTAGRAM_LIMITS.videoMaxMs)
    problems.push({
      code: 'video_duration',
      message: `Instagram allows videos from ${formatDuration(INSTAGRAM_LIMITS.videoMinMs)} to ${formatDuration(INSTAGRAM_LIMITS.videoMaxMs)}; ${name} is ${formatDuration(duration)}.`,
    });
  if (media.width && media.width > INSTAGRAM_LIMITS.videoMaxWidth)
    problems.push({
      code: 'video_dimensions',
      message: `Instagram allows videos up to ${formatNumber(INSTAGRAM_LIMITS.videoMaxWidth)} pixels wide; ${name} is ${formatNumber(media.width)} pixels wide.`,
    });
  if (media.width && media.height) {
    const ratio = media.width / media.height;
    if (ratio < INSTAGRAM_LIMITS.videoMinRatio || ratio > INSTAGRAM_LIMITS.videoMaxRatio)
      problems.push({
        code: 'aspect_ratio',
        message: `Instagram allows videos from 0.01:1 to 10:1; ${name} is ${media.width}×${media.height} (${formatRatio(ratio)}).`,
      });
  }
  return problems;
}

/** The caption (its `---` parts joined, as Instagram is sent it) against Instagram's limit. */
export function measureInstagramText(text: string): TextMeasure[] {
  return [{ used: countCharacters(withoutThreadSeparators(text)), limit: INSTAGRAM_LIMITS.captionCharacters, unit: 'characters' }];
}
