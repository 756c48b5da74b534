/** Every YouTube limit with its message, and the counts forms show (title characters, description bytes). */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { isShort, measureYoutubeText, validateYoutubeDraft, youtubeText } from '../../../src/publishers/youtube/limits.js';

function video(info: Partial<MediaInfo> = {}): MediaInfo {
  return {
    id: 'v',
    kind: 'video',
    mimeType: 'video/mp4',
    sizeBytes: 1_000_000,
    sha256: 'x',
    width: 1920,
    height: 1080,
    durationMs: 30_000,
    ...info,
  };
}
function image(): MediaInfo {
  return { id: 'i', kind: 'image', mimeType: 'image/jpeg', sizeBytes: 1_000, sha256: 'y', width: 10, height: 10 };
}
function draft(caption: string, media: MediaInfo[] = [video()], options: Record<string, string> = {}): PostDraft {
  return { caption, media, options };
}
const messages = (d: PostDraft) => validateYoutubeDraft(d).map((p) => `${p.code}: ${p.message}`);

describe('YouTube limits', () => {
  it('takes the first line as the title and the rest as the description', () => {
    expect(youtubeText('  Launch day  \n\nLine one\nLine two  ')).toEqual({ title: 'Launch day', description: 'Line one\nLine two' });
    expect(youtubeText('Just a title')).toEqual({ title: 'Just a title', description: '' });
    expect(messages(draft('Launch day\nMore'))).toEqual([]);
  });

  it('needs exactly one video, and no images', () => {
    expect(messages(draft('Title', []))).toEqual([
      'media_required: YouTube publishes videos only; this post has no video (add exactly one).',
    ]);
    expect(messages(draft('Title', [image(), image()]))).toEqual([
      'media_type: YouTube publishes one video and no images; this post has 2 images.',
    ]);
    expect(messages(draft('Title', [video(), image()]))).toEqual([
      'media_type: YouTube publishes one video and no images; this post has 1 image and 1 video.',
    ]);
    expect(messages(draft('Title', [video(), video()]))).toEqual(['media_count: YouTube takes one video per post; this post has 2.']);
  });

  it('limits size (256 GB) and length (12 hours)', () => {
    expect(messages(draft('T', [video({ sizeBytes: 257 * 1024 ** 3 })]))).toEqual([
      'media_size: YouTube takes videos up to 256 GB; this video is 257.0 GB.',
    ]);
    expect(messages(draft('T', [video({ durationMs: 12.5 * 3_600_000 })]))).toEqual([
      'video_duration: YouTube takes videos up to 12 hours; this video lasts 12.5 hours.',
    ]);
  });

  it('requires a title of at most 100 characters, counted as characters (not UTF-16 units)', () => {
    expect(messages(draft(''))).toEqual([
      "title_required: YouTube needs a title, taken from the caption's first line; this caption has none.",
    ]);
    expect(messages(draft('😀'.repeat(100)))).toEqual([]);
    expect(messages(draft('a'.repeat(101)))).toEqual([
      "title_too_long: YouTube allows 100 characters in a title (the caption's first line); this one counts 101.",
    ]);
  });

  it('limits the description to 5,000 UTF-8 bytes', () => {
    expect(messages(draft(`T\n${'a'.repeat(5_000)}`))).toEqual([]);
    expect(messages(draft(`T\n${'é'.repeat(2_501)}`))).toEqual([
      'caption_too_long: YouTube allows 5,000 bytes (UTF-8) in a description (the caption after its first line); this one counts 5,002.',
    ]);
  });

  it('refuses < and > in the title and the description', () => {
    expect(messages(draft('a <b> title\nand a > description'))).toEqual([
      "title_characters: YouTube titles may not contain < or >; the caption's first line does.",
      'description_characters: YouTube descriptions may not contain < or >; the caption after its first line does.',
    ]);
  });

  it('takes public, unlisted or private, and nothing (public)', () => {
    for (const privacy of ['public', 'unlisted', 'private']) expect(messages(draft('T', [video()], { privacy }))).toEqual([]);
    expect(messages(draft('T', [video()], { privacy: 'friends' }))).toEqual([
      'privacy_invalid: YouTube privacy must be public, unlisted, private (youtube:public|unlisted|private); "friends" is not one of them.',
    ]);
  });

  it('measures the title in characters and the description in bytes, without thread separators', () => {
    expect(measureYoutubeText('Launch 🚀\n---\nCafé')).toEqual([
      { used: 8, limit: 100, unit: 'title characters' },
      { used: 5, limit: 5_000, unit: 'description bytes' },
    ]);
  });

  it('recognises a Short by shape (square or vertical) and length (3 minutes at most)', () => {
    expect(isShort(video({ width: 1080, height: 1920, durationMs: 180_000 }))).toBe(true);
    expect(isShort(video({ width: 1080, height: 1080, durationMs: 59_000 }))).toBe(true);
    expect(isShort(video({ width: 1080, height: 1920, durationMs: 180_001 }))).toBe(false);
    expect(isShort(video({ width: 1920, height: 1080, durationMs: 10_000 }))).toBe(false);
    expect(isShort(video({ width: undefined, height: undefined }))).toBe(false);
  });
});
