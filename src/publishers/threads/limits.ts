/**
 * What Threads accepts in one post (more-platforms.md §3.5), checked before anything is sent;
 * each problem names Threads, the limit and the measured value.
 *
 * Text: 500 characters, where Threads' documentation says emoji count as their UTF-8 bytes. The
 * exact rule is unverified, so the counting is conservative: a grapheme (what a person sees as
 * one character, Intl.Segmenter) counts 1, and one holding an emoji counts the UTF-8 bytes of
 * the whole cluster (👍 is 4, 👍🏽 is 8, a family of four is 25). A caption with `---` is a reply
 * chain (src/core/thread-parts.ts): each part is counted on its own; the media go on the first.
 *
 * Media: JPEG or PNG images up to 8 MB; MP4 or MOV videos up to 5 minutes and 1 GB; one file, or
 * a carousel of 2 to 20.
 */
import { threadParts } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';

export const MAX_CHARACTERS = 500;
export const MAX_CAROUSEL_ITEMS = 20;
const MB = 1024 * 1024;
export const MAX_IMAGE_BYTES = 8 * MB;
export const MAX_VIDEO_BYTES = 1024 * MB;
export const MAX_VIDEO_MS = 5 * 60_000;

export const IMAGE_TYPES: Readonly<Record<string, string>> = { 'image/jpeg': 'JPEG', 'image/png': 'PNG' };
export const VIDEO_TYPES: Readonly<Record<string, string>> = { 'video/mp4': 'MP4', 'video/quicktime': 'MOV' };

// Made at the first count: a grapheme segmenter loads ICU's break data, which an idle service need not hold (issue 19).
let segmenterMade: Intl.Segmenter | undefined;
const segmenter = (): Intl.Segmenter => (segmenterMade ??= new Intl.Segmenter('en', { granularity: 'grapheme' }));
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** Characters as Threads counts them (see the module comment). */
export function countThreadsCharacters(text: string): number {
  let count = 0;
  for (const { segment } of segmenter().segment(text)) count += EMOJI.test(segment) ? Buffer.byteLength(segment, 'utf8') : 1;
  return count;
}

export function threadsMediaKind(media: MediaInfo): 'image' | 'video' | undefined {
  if (media.mimeType in IMAGE_TYPES) return 'image';
  if (media.mimeType in VIDEO_TYPES) return 'video';
  return undefined;
}

export function validateThreadsDraft(draft: PostDraft): ValidationProblem[] {
  const parts = threadParts(draft.caption);
  const problems: ValidationProblem[] = [];
  parts.forEach((part, index) => {
    const used = countThreadsCharacters(part);
    if (used > MAX_CHARACTERS)
      problems.push({
        code: 'caption_too_long',
        message: `Threads allows ${MAX_CHARACTERS} characters (an emoji counts its UTF-8 bytes); ${parts.length === 1 ? 'this caption' : `part ${index + 1} of ${parts.length}`} counts ${used}.`,
      });
  });
  if (parts.every((part) => part.trim() === '') && draft.media.length === 0)
    problems.push({ code: 'empty_post', message: 'Threads needs a caption or media; this post has neither.' });

  const count = draft.media.length;
  if (count > MAX_CAROUSEL_ITEMS)
    problems.push({
      code: 'media_count',
      message: `Threads allows up to ${MAX_CAROUSEL_ITEMS} files in a carousel; this post has ${count}.`,
    });
  draft.media.forEach((media, index) => problems.push(...fileProblems(media, name(media, index, count))));
  return problems;
}

function fileProblems(media: MediaInfo, label: string): ValidationProblem[] {
  const kind = threadsMediaKind(media);
  if (!kind)
    return [{ code: 'media_type', message: `Threads accepts JPEG or PNG images and MP4 or MOV videos; ${label} is ${media.mimeType}.` }];
  const problems: ValidationProblem[] = [];
  const limit = kind === 'image' ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES;
  if (media.sizeBytes > limit)
    problems.push({
      code: 'media_size',
      message: `Threads allows ${kind}s up to ${kind === 'image' ? '8 MB' : '1 GB'}; ${label} is ${megabytes(media.sizeBytes)}.`,
    });
  if (kind === 'video') {
    if (media.durationMs === undefined)
      problems.push({
        code: 'video_duration',
        message: `Threads allows videos up to 5 minutes, and IQSP could not read how long ${label} is; export it again as MP4.`,
      });
    else if (media.durationMs > MAX_VIDEO_MS)
      problems.push({
        code: 'video_duration',
        message: `Threads allows videos up to 5 minutes; ${label} lasts ${duration(media.durationMs)}.`,
      });
  }
  return problems;
}

/** Each post of the chain `text` makes, counted as Threads counts it. */
export function measureThreadsText(text: string): TextMeasure[] {
  return threadParts(text).map((part) => ({ used: countThreadsCharacters(part), limit: MAX_CHARACTERS, unit: 'characters' }));
}

function name(media: MediaInfo, index: number, total: number): string {
  if (media.originalName) return media.originalName;
  return total > 1 ? `file ${index + 1}` : 'this file';
}

function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} minutes`;
}
