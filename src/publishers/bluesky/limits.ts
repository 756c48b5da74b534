/**
 * What Bluesky accepts in one post (more-platforms.md §4.8): text of at most 300 graphemes and
 * 3,000 UTF-8 bytes (counted as the app counts them, with Intl.Segmenter), and one embed: up to
 * 4 images of at most 2,000,000 bytes each, or one MP4 video of at most 300,000,000 bytes, never
 * both. A caption with `---` is a thread: each part is its own post, measured on its own; the
 * media go on the first. Each problem names Bluesky, the limit and the measured value.
 */
import { threadParts } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';

export const MAX_GRAPHEMES = 300;
export const MAX_TEXT_BYTES = 3_000;
export const MAX_IMAGES = 4;
export const MAX_IMAGE_BYTES = 2_000_000;
export const MAX_VIDEO_BYTES = 300_000_000;
/** Replies in one chain IQSP sends at once: a bound, not a platform rule (each part costs write points). */
export const MAX_THREAD_PARTS = 25;

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

export type BlueskyMediaKind = 'image' | 'video';

export function blueskyMediaKind(media: MediaInfo): BlueskyMediaKind | undefined {
  if (IMAGE_TYPES.has(media.mimeType)) return 'image';
  if (media.mimeType === 'video/mp4') return 'video';
  return undefined;
}

// Made at the first count: a grapheme segmenter loads ICU's break data, which an idle service need not hold (issue 19).
let segmenterMade: Intl.Segmenter | undefined;
const segmenter = (): Intl.Segmenter => (segmenterMade ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' }));

export function graphemeCount(text: string): number {
  let count = 0;
  for (const _ of segmenter().segment(text)) count += 1;
  return count;
}

export function measureBlueskyText(text: string): TextMeasure[] {
  return threadParts(text).map((part) => ({ used: graphemeCount(part), limit: MAX_GRAPHEMES, unit: 'characters' }));
}

export function validateBlueskyDraft(draft: PostDraft): ValidationProblem[] {
  const parts = threadParts(draft.caption);
  const problems: ValidationProblem[] = [];
  if (parts.length > MAX_THREAD_PARTS)
    problems.push({
      code: 'thread_parts',
      message: `Bluesky threads from IQSP allow up to ${MAX_THREAD_PARTS} parts; this one has ${parts.length}.`,
    });
  parts.forEach((part, index) => {
    const name = parts.length === 1 ? 'this caption' : `part ${index + 1} of ${parts.length}`;
    const graphemes = graphemeCount(part);
    if (graphemes > MAX_GRAPHEMES)
      problems.push({
        code: 'caption_too_long',
        message: `Bluesky allows ${MAX_GRAPHEMES} characters per post; ${name} counts ${graphemes}.`,
      });
    const bytes = Buffer.byteLength(part, 'utf8');
    if (bytes > MAX_TEXT_BYTES)
      problems.push({
        code: 'caption_bytes',
        message: `Bluesky allows ${MAX_TEXT_BYTES.toLocaleString('en-US')} bytes of text per post; ${name} is ${bytes.toLocaleString('en-US')} bytes.`,
      });
    if (part.trim() === '' && (index > 0 || draft.media.length === 0))
      problems.push(
        parts.length === 1
          ? { code: 'empty_post', message: 'Bluesky needs text or media; this post has neither.' }
          : { code: 'empty_part', message: `Bluesky needs text in every reply of a thread; ${name} is empty.` },
      );
  });

  const counts = { image: 0, video: 0 };
  draft.media.forEach((media, index) => {
    const name = media.originalName ?? `file ${index + 1}`;
    const kind = blueskyMediaKind(media);
    if (!kind) {
      problems.push({
        code: 'media_type',
        message: `Bluesky accepts JPEG, PNG, WebP or GIF images and MP4 videos; ${name} is ${media.mimeType}.`,
      });
      return;
    }
    counts[kind] += 1;
    const limit = kind === 'image' ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES;
    if (media.sizeBytes > limit)
      problems.push({
        code: 'media_size',
        message: `Bluesky allows ${kind}s up to ${limit.toLocaleString('en-US')} bytes (${limit / 1_000_000} MB); ${name} is ${media.sizeBytes.toLocaleString('en-US')} bytes.`,
      });
  });
  if (counts.image > 0 && counts.video > 0)
    problems.push({
      code: 'media_mix',
      message: `Bluesky allows up to ${MAX_IMAGES} images or 1 video per post, not both; this post has ${counts.image} image${counts.image === 1 ? '' : 's'} and ${counts.video} video${counts.video === 1 ? '' : 's'}.`,
    });
  else if (counts.image > MAX_IMAGES)
    problems.push({ code: 'media_count', message: `Bluesky allows up to ${MAX_IMAGES} images per post; this post has ${counts.image}.` });
  else if (counts.video > 1)
    problems.push({ code: 'media_count', message: `Bluesky allows 1 video per post; this post has ${counts.video}.` });
  return problems;
}
