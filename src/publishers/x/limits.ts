/**
 * What X accepts in one post (platform-apis.md §3.8), checked before anything is sent. Each
 * problem names X, the limit and the measured value. A caption with `---` is a thread
 * (src/core/thread-parts.ts): each part is counted on its own and named ('part 2 of 3'); the
 * media, all on the first part, are checked as one post's.
 */
import { twitterText } from './twitter-text.js';
import { threadParts } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';

export const MAX_WEIGHTED_LENGTH = 280;
export const MAX_IMAGES = 4;
export const MAX_CASHTAGS = 1;
/** Posts in one thread, as X's composer allows; the media go on the first. */
export const MAX_THREAD_PARTS = 25;
const MB = 1024 * 1024;
export const MAX_IMAGE_BYTES = 5 * MB;
export const MAX_GIF_BYTES = 15 * MB;
export const MAX_VIDEO_BYTES = 512 * MB;
const VIDEO_MIN_MS = 500;
const VIDEO_MAX_MS = 140_000;
const VIDEO_MIN_SIDE = 32;
/** 1280×1024 read for either orientation, so the recommended 720×1280 portrait fits. */
const VIDEO_MAX_LONG_SIDE = 1280;
const VIDEO_MAX_SHORT_SIDE = 1024;
const VIDEO_MAX_ASPECT = 3;
const GIF_MAX_WIDTH = 1280;
const GIF_MAX_HEIGHT = 1080;

/** How X handles a file; it decides the media_category and the limits. */
export type XMediaKind = 'image' | 'gif' | 'video';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

/**
 * Every GIF is treated as animated: the sniffed type cannot tell, and X's GIF rules (one per
 * post, 15 MB) are the ones that hold for animated files, the usual reason to send a GIF.
 */
export function xMediaKind(media: MediaInfo): XMediaKind | undefined {
  if (IMAGE_TYPES.has(media.mimeType)) return 'image';
  if (media.mimeType === 'image/gif') return 'gif';
  if (media.mimeType === 'video/mp4') return 'video';
  return undefined;
}

export function validateXDraft(draft: PostDraft): ValidationProblem[] {
  const parts = threadParts(draft.caption);
  const problems: ValidationProblem[] = [...threadProblems(parts)];
  parts.forEach((part, index) =>
    problems.push(...partProblems(part, parts.length === 1 ? undefined : `part ${index + 1} of ${parts.length}`)),
  );
  if (parts.every((part) => part.trim() === '') && draft.media.length === 0)
    problems.push({ code: 'empty_post', message: 'X needs a caption or media; this post has neither.' });

  const counts: Record<XMediaKind, number> = { image: 0, gif: 0, video: 0 };
  draft.media.forEach((media, index) => {
    const name = media.originalName ?? `file ${index + 1}`;
    const kind = xMediaKind(media);
    if (!kind) {
      problems.push({
        code: 'media_type',
        message: `X accepts JPEG, PNG, WebP or GIF images and MP4 videos; ${name} is ${media.mimeType}.`,
      });
      return;
    }
    counts[kind] += 1;
    problems.push(...fileProblems(media, kind, name));
  });
  problems.push(...countProblems(counts));
  return problems;
}

/** A thread as a whole: how many parts, and no part repeating an earlier one (X refuses duplicate text). */
function threadProblems(parts: readonly string[]): ValidationProblem[] {
  if (parts.length === 1) return [];
  const problems: ValidationProblem[] = [];
  if (parts.length > MAX_THREAD_PARTS)
    problems.push({ code: 'thread_parts', message: `X threads allow up to ${MAX_THREAD_PARTS} parts; this one has ${parts.length}.` });
  parts.forEach((part, index) => {
    const first = parts.indexOf(part);
    if (first < index)
      problems.push({
        code: 'thread_duplicate',
        message: `X refuses a post with the same text as an earlier one; part ${index + 1} of ${parts.length} repeats part ${first + 1}.`,
      });
  });
  return problems;
}

/** One post's text: its weighted length and cashtags. `part` names it in a thread ('part 2 of 3'). */
function partProblems(text: string, part: string | undefined): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const { weightedLength } = twitterText().parseTweet(text);
  if (weightedLength > MAX_WEIGHTED_LENGTH)
    problems.push({
      code: 'caption_too_long',
      message: `X allows ${MAX_WEIGHTED_LENGTH} characters; ${part ?? 'this caption'} counts ${weightedLength}.`,
    });
  const cashtags = twitterText().extractCashtags(text).length;
  if (cashtags > MAX_CASHTAGS)
    problems.push({
      code: 'cashtags',
      message: `X allows ${MAX_CASHTAGS} cashtag per post made through its API; ${part ?? 'this caption'} has ${cashtags}.`,
    });
  return problems;
}

function countProblems(counts: Record<XMediaKind, number>): ValidationProblem[] {
  const kindsUsed = (Object.keys(counts) as XMediaKind[]).filter((k) => counts[k] > 0);
  if (kindsUsed.length > 1) {
    const parts = kindsUsed.map((k) => plural(counts[k], k === 'gif' ? 'GIF' : k));
    return [
      {
        code: 'media_mix',
        message: `X allows up to ${MAX_IMAGES} images, or 1 GIF, or 1 video per post, not a mix; this post has ${parts.join(' and ')}.`,
      },
    ];
  }
  if (counts.image > MAX_IMAGES)
    return [{ code: 'media_count', message: `X allows up to ${MAX_IMAGES} images per post; this post has ${counts.image}.` }];
  if (counts.gif > 1) return [{ code: 'media_count', message: `X allows 1 GIF per post; this post has ${counts.gif}.` }];
  if (counts.video > 1) return [{ code: 'media_count', message: `X allows 1 video per post; this post has ${counts.video}.` }];
  return [];
}

function fileProblems(media: MediaInfo, kind: XMediaKind, name: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const limit = { image: MAX_IMAGE_BYTES, gif: MAX_GIF_BYTES, video: MAX_VIDEO_BYTES }[kind];
  if (media.sizeBytes > limit)
    problems.push({
      code: 'media_size',
      message: `X allows ${kind === 'gif' ? 'GIFs' : `${kind}s`} up to ${limit / MB} MB; ${name} is ${megabytes(media.sizeBytes)}.`,
    });
  const { width, height } = media;
  if (kind === 'gif' && width !== undefined && height !== undefined && (width > GIF_MAX_WIDTH || height > GIF_MAX_HEIGHT))
    problems.push({
      code: 'media_dimensions',
      message: `X allows GIFs up to ${GIF_MAX_WIDTH}×${GIF_MAX_HEIGHT} pixels; ${name} is ${width}×${height}.`,
    });
  if (kind !== 'video') return problems;

  // A length IQSP could not read (a damaged or unusual file) cannot be checked: refused now rather than by X after approval.
  if (media.durationMs === undefined)
    problems.push({
      code: 'video_duration',
      message: `X allows videos from ${VIDEO_MIN_MS / 1000} to ${VIDEO_MAX_MS / 1000} seconds, and IQSP could not read how long ${name} is; export it again as MP4.`,
    });
  else if (media.durationMs < VIDEO_MIN_MS || media.durationMs > VIDEO_MAX_MS)
    problems.push({
      code: 'video_duration',
      message: `X allows videos from ${VIDEO_MIN_MS / 1000} to ${VIDEO_MAX_MS / 1000} seconds; ${name} lasts ${seconds(media.durationMs)}.`,
    });
  if (width !== undefined && height !== undefined) {
    const long = Math.max(width, height);
    const short = Math.min(width, height);
    if (short < VIDEO_MIN_SIDE || long > VIDEO_MAX_LONG_SIDE || short > VIDEO_MAX_SHORT_SIDE)
      problems.push({
        code: 'media_dimensions',
        message: `X allows videos from ${VIDEO_MIN_SIDE}×${VIDEO_MIN_SIDE} to ${VIDEO_MAX_LONG_SIDE}×${VIDEO_MAX_SHORT_SIDE} pixels; ${name} is ${width}×${height}.`,
      });
    if (short > 0 && long / short > VIDEO_MAX_ASPECT)
      problems.push({
        code: 'media_aspect',
        message: `X allows video aspect ratios from 1:${VIDEO_MAX_ASPECT} to ${VIDEO_MAX_ASPECT}:1; ${name} is ${ratio(width, height)}.`,
      });
  }
  return problems;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

function seconds(ms: number): string {
  const value = Math.round(ms / 100) / 10;
  return `${value} second${value === 1 ? '' : 's'}`;
}

function ratio(width: number, height: number): string {
  return width >= height ? `${(width / height).toFixed(2)}:1` : `1:${(height / width).toFixed(2)}`;
}

/** Each post of the thread `text` makes, counted as X counts it (weighted: URLs are 23, some scripts 2 each). */
export function measureXText(text: string): TextMeasure[] {
  return threadParts(text).map((part) => ({
    used: twitterText().parseTweet(part).weightedLength,
    limit: MAX_WEIGHTED_LENGTH,
    unit: 'weighted characters',
  }));
}
