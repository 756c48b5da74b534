/**
 * What YouTube accepts, checked before anything is sent (more-platforms.md §2.4–2.6): one video
 * and nothing else (the API has no text or image posts); the title is the caption's first line
 * (required, at most 100 characters), the description the rest (at most 5,000 UTF-8 bytes);
 * neither may contain `<` or `>`. Files up to 256 GB and 12 hours.
 */
import type { MediaInfo } from '../../media/media.js';
import { withoutThreadSeparators } from '../../core/thread-parts.js';
import type { PostDraft, TextMeasure, ValidationProblem } from '../publisher.js';
import { PRIVACY_WORDS, isPrivacyWord, privacyOption } from './privacy.js';

export const MAX_TITLE_CHARACTERS = 100;
export const MAX_DESCRIPTION_BYTES = 5_000;
const GIB = 1024 * 1024 * 1024;
export const MAX_VIDEO_BYTES = 256 * GIB;
export const MAX_VIDEO_SECONDS = 12 * 60 * 60;
/** Square or vertical videos up to 3 minutes become Shorts by themselves (there is no API flag). */
export const MAX_SHORT_SECONDS = 180;

export interface YoutubeText {
  title: string;
  description: string;
}

/** The first line (trimmed) is the title; the rest, trimmed, the description. */
export function youtubeText(caption: string): YoutubeText {
  const text = caption.trim();
  const newline = text.indexOf('\n');
  if (newline === -1) return { title: text, description: '' };
  return { title: text.slice(0, newline).trim(), description: text.slice(newline + 1).trim() };
}

/** YouTube counts a title in characters (code points). */
export function titleLength(title: string): number {
  return [...title].length;
}

export function descriptionBytes(description: string): number {
  return Buffer.byteLength(description, 'utf8');
}

export function validateYoutubeDraft(draft: PostDraft): ValidationProblem[] {
  return [...privacyProblems(draft), ...mediaProblems(draft.media), ...textProblems(draft.caption)];
}

function privacyProblems(draft: PostDraft): ValidationProblem[] {
  const value = privacyOption(draft.options);
  if (value === undefined || isPrivacyWord(value)) return [];
  return [
    {
      code: 'privacy_invalid',
      message: `YouTube privacy must be ${PRIVACY_WORDS.join(', ')} (youtube:${PRIVACY_WORDS.join('|')}); "${value}" is not one of them.`,
    },
  ];
}

function mediaProblems(media: readonly MediaInfo[]): ValidationProblem[] {
  const videos = media.filter((m) => m.kind === 'video');
  const images = media.length - videos.length;
  if (media.length === 0)
    return [{ code: 'media_required', message: 'YouTube publishes videos only; this post has no video (add exactly one).' }];
  if (images > 0)
    return [
      {
        code: 'media_type',
        message: `YouTube publishes one video and no images; this post has ${count(images, 'image')}${videos.length > 0 ? ` and ${count(videos.length, 'video')}` : ''}.`,
      },
    ];
  if (videos.length > 1) return [{ code: 'media_count', message: `YouTube takes one video per post; this post has ${videos.length}.` }];
  const video = videos[0]!;
  const problems: ValidationProblem[] = [];
  if (!video.mimeType.startsWith('video/'))
    problems.push({ code: 'media_type', message: `YouTube takes video files; this one is ${video.mimeType}.` });
  if (video.sizeBytes > MAX_VIDEO_BYTES)
    problems.push({
      code: 'media_size',
      message: `YouTube takes videos up to 256 GB; this video is ${(video.sizeBytes / GIB).toFixed(1)} GB.`,
    });
  if (video.durationMs !== undefined && video.durationMs > MAX_VIDEO_SECONDS * 1000)
    problems.push({
      code: 'video_duration',
      message: `YouTube takes videos up to 12 hours; this video lasts ${(video.durationMs / 3_600_000).toFixed(1)} hours.`,
    });
  return problems;
}

function textProblems(caption: string): ValidationProblem[] {
  const { title, description } = youtubeText(caption);
  const problems: ValidationProblem[] = [];
  if (title === '')
    problems.push({
      code: 'title_required',
      message: "YouTube needs a title, taken from the caption's first line; this caption has none.",
    });
  const length = titleLength(title);
  if (length > MAX_TITLE_CHARACTERS)
    problems.push({
      code: 'title_too_long',
      message: `YouTube allows ${MAX_TITLE_CHARACTERS} characters in a title (the caption's first line); this one counts ${length}.`,
    });
  if (/[<>]/.test(title))
    problems.push({ code: 'title_characters', message: "YouTube titles may not contain < or >; the caption's first line does." });
  const bytes = descriptionBytes(description);
  if (bytes > MAX_DESCRIPTION_BYTES)
    problems.push({
      code: 'caption_too_long',
      message: `YouTube allows ${MAX_DESCRIPTION_BYTES.toLocaleString('en-US')} bytes (UTF-8) in a description (the caption after its first line); this one counts ${bytes.toLocaleString('en-US')}.`,
    });
  if (/[<>]/.test(description))
    problems.push({
      code: 'description_characters',
      message: 'YouTube descriptions may not contain < or >; the caption after its first line does.',
    });
  return problems;
}

/** The title in characters and the description in bytes, as `validate` counts them. */
export function measureYoutubeText(text: string): TextMeasure[] {
  const { title, description } = youtubeText(withoutThreadSeparators(text));
  return [
    { used: titleLength(title), limit: MAX_TITLE_CHARACTERS, unit: 'title characters' },
    { used: descriptionBytes(description), limit: MAX_DESCRIPTION_BYTES, unit: 'description bytes' },
  ];
}

/** A square or vertical video of at most 3 minutes becomes a Short (shape unknown: a plain video). */
export function isShort(video: MediaInfo): boolean {
  const { width, height, durationMs } = video;
  if (width === undefined || height === undefined || durationMs === undefined) return false;
  return height >= width && durationMs <= MAX_SHORT_SECONDS * 1000;
}

export function videoLink(videoId: string, short: boolean): string {
  return short
    ? `https://www.youtube.com/shorts/${encodeURIComponent(videoId)}`
    : `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
