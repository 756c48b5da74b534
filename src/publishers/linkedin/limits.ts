/**
 * What LinkedIn accepts in one post (more-platforms.md §1.6), checked before anything is sent.
 * Each problem names LinkedIn, the limit and the measured value. The commentary is counted
 * unescaped, in UTF-16 code units (the unit JavaScript strings and LinkedIn's Java services
 * count); the escaping `publish` adds for LinkedIn's "little" text format is not counted.
 */
import { withoutThreadSeparators } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';

export const MAX_COMMENTARY = 3_000;
export const MAX_IMAGES = 20;
const KB = 1000;
const MB = 1000 * 1000;
export const MIN_VIDEO_BYTES = 75 * KB;
export const MAX_VIDEO_BYTES = 500 * MB;
const VIDEO_MIN_MS = 3_000;
const VIDEO_MAX_MS = 30 * 60_000;
/** LinkedIn's image pixel cap: under 36,152,320 pixels. */
export const MAX_IMAGE_PIXELS = 36_152_320;

export type LinkedinMediaKind = 'image' | 'video';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif']);

export function linkedinMediaKind(media: MediaInfo): LinkedinMediaKind | undefined {
  if (IMAGE_TYPES.has(media.mimeType)) return 'image';
  if (media.mimeType === 'video/mp4') return 'video';
  return undefined;
}

export function validateLinkedinDraft(draft: PostDraft): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const length = draft.caption.length;
  if (length > MAX_COMMENTARY)
    problems.push({
      code: 'caption_too_long',
      message: `LinkedIn allows ${thousands(MAX_COMMENTARY)} characters; this caption has ${thousands(length)}.`,
    });
  if (draft.caption.trim() === '' && draft.media.length === 0)
    problems.push({ code: 'empty_post', message: 'LinkedIn needs a caption or media; this post has neither.' });

  const counts: Record<LinkedinMediaKind, number> = { image: 0, video: 0 };
  draft.media.forEach((media, index) => {
    const name = media.originalName ?? `file ${index + 1}`;
    const kind = linkedinMediaKind(media);
    if (!kind) {
      problems.push({
        code: 'media_type',
        message: `LinkedIn accepts JPG, PNG or GIF images and MP4 videos; ${name} is ${media.mimeType}.`,
      });
      return;
    }
    counts[kind] += 1;
    problems.push(...(kind === 'image' ? imageProblems(media, name) : videoProblems(media, name)));
  });
  if (counts.image > 0 && counts.video > 0)
    problems.push({
      code: 'media_mix',
      message: `LinkedIn allows 1 video or up to ${MAX_IMAGES} images per post, not a mix; this post has ${plural(counts.image, 'image')} and ${plural(counts.video, 'video')}.`,
    });
  else if (counts.video > 1)
    problems.push({ code: 'media_count', message: `LinkedIn allows 1 video per post; this post has ${counts.video}.` });
  else if (counts.image > MAX_IMAGES)
    problems.push({ code: 'media_count', message: `LinkedIn allows up to ${MAX_IMAGES} images per post; this post has ${counts.image}.` });
  return problems;
}

function imageProblems(media: MediaInfo, name: string): ValidationProblem[] {
  const { width, height } = media;
  if (width === undefined || height === undefined || width * height < MAX_IMAGE_PIXELS) return [];
  return [
    {
      code: 'media_dimensions',
      message: `LinkedIn allows images under ${thousands(MAX_IMAGE_PIXELS)} pixels; ${name} is ${width}×${height} (${thousands(width * height)}).`,
    },
  ];
}

function videoProblems(media: MediaInfo, name: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (media.sizeBytes < MIN_VIDEO_BYTES || media.sizeBytes > MAX_VIDEO_BYTES)
    problems.push({
      code: 'media_size',
      message: `LinkedIn allows videos from 75 KB to 500 MB; ${name} is ${size(media.sizeBytes)}.`,
    });
  if (media.durationMs === undefined)
    problems.push({
      code: 'video_duration',
      message: `LinkedIn allows videos from 3 seconds to 30 minutes, and IQSP could not read how long ${name} is; export it again as MP4.`,
    });
  else if (media.durationMs < VIDEO_MIN_MS || media.durationMs > VIDEO_MAX_MS)
    problems.push({
      code: 'video_duration',
      message: `LinkedIn allows videos from 3 seconds to 30 minutes; ${name} lasts ${duration(media.durationMs)}.`,
    });
  return problems;
}

/** The caption as LinkedIn counts it: one post (LinkedIn has no threads), in UTF-16 units, unescaped. */
export function measureLinkedinText(text: string): TextMeasure[] {
  return [{ used: withoutThreadSeparators(text).length, limit: MAX_COMMENTARY, unit: 'characters' }];
}

/** LinkedIn's "little" text format reserves these characters; plain text escapes each with a backslash. */
const RESERVED = /[\\|{}@[\]()<>#*_~]/g;

export function escapeLittleText(text: string): string {
  return text.replace(RESERVED, (c) => `\\${c}`);
}

/** The plain text of "little" text as LinkedIn shows it back: escapes removed. */
export function unescapeLittleText(text: string): string {
  return text.replace(/\\([\\|{}@[\]()<>#*_~])/g, '$1');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function thousands(value: number): string {
  return value.toLocaleString('en-US');
}

function size(bytes: number): string {
  return bytes < MB ? `${(bytes / KB).toFixed(1)} KB` : `${(bytes / MB).toFixed(1)} MB`;
}

function duration(ms: number): string {
  if (ms >= 60_000) return `${(Math.round(ms / 6_000) / 10).toString()} minutes`;
  const value = Math.round(ms / 100) / 10;
  return `${value} second${value === 1 ? '' : 's'}`;
}
