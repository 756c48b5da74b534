/** Bluesky's limits (more-platforms.md §4.8), each with its message. */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { measureBlueskyText, validateBlueskyDraft } from '../../../src/publishers/bluesky/limits.js';

const image = (i: number, sizeBytes = 1000, mimeType = 'image/jpeg'): MediaInfo => ({
  id: `i${i}`,
  kind: 'image',
  mimeType,
  sizeBytes,
  sha256: 'x',
  originalName: `photo${i}.jpg`,
});
const video = (sizeBytes = 1000, mimeType = 'video/mp4'): MediaInfo => ({
  id: 'v',
  kind: 'video',
  mimeType,
  sizeBytes,
  sha256: 'x',
  originalName: 'clip.mp4',
});
const validate = (caption: string, media: MediaInfo[] = []) => validateBlueskyDraft({ caption, media, options: {} });

describe('Bluesky limits', () => {
  it('counts graphemes, not UTF-16 units: 300 family emoji fit, 301 do not', () => {
    const family = '👨‍👩‍👧‍👦';
    expect(measureBlueskyText(family.repeat(3))).toEqual([{ used: 3, limit: 300, unit: 'characters' }]);
    expect(validate('a'.repeat(300))).toEqual([]);
    expect(validate('a'.repeat(301))).toEqual([
      { code: 'caption_too_long', message: 'Bluesky allows 300 characters per post; this caption counts 301.' },
    ]);
  });

  it('also caps the text at 3,000 UTF-8 bytes', () => {
    // 121 graphemes of 25 bytes each: within 300 graphemes, over 3,000 bytes (120 are exactly 3,000).
    expect(validate('👨‍👩‍👧‍👦'.repeat(120))).toEqual([]);
    const text = '👨‍👩‍👧‍👦'.repeat(121);
    expect(validate(text)).toEqual([
      {
        code: 'caption_bytes',
        message: `Bluesky allows 3,000 bytes of text per post; this caption is ${Buffer.byteLength(text).toLocaleString('en-US')} bytes.`,
      },
    ]);
  });

  it('measures and checks each part of a --- thread', () => {
    expect(measureBlueskyText('one\n---\ntwo two')).toEqual([
      { used: 3, limit: 300, unit: 'characters' },
      { used: 7, limit: 300, unit: 'characters' },
    ]);
    expect(validate(`ok\n---\n${'b'.repeat(301)}`)).toEqual([
      { code: 'caption_too_long', message: 'Bluesky allows 300 characters per post; part 2 of 2 counts 301.' },
    ]);
  });

  it('needs text or media', () => {
    expect(validate('')).toEqual([{ code: 'empty_post', message: 'Bluesky needs text or media; this post has neither.' }]);
    expect(validate('', [image(1)])).toEqual([]);
  });

  it('allows up to 4 images of at most 2,000,000 bytes each', () => {
    expect(
      validate(
        'x',
        [1, 2, 3, 4].map((i) => image(i)),
      ),
    ).toEqual([]);
    expect(
      validate(
        'x',
        [1, 2, 3, 4, 5].map((i) => image(i)),
      ),
    ).toEqual([{ code: 'media_count', message: 'Bluesky allows up to 4 images per post; this post has 5.' }]);
    expect(validate('x', [image(1, 2_000_000)])).toEqual([]);
    expect(validate('x', [image(1, 2_000_001)])).toEqual([
      { code: 'media_size', message: 'Bluesky allows images up to 2,000,000 bytes (2 MB); photo1.jpg is 2,000,001 bytes.' },
    ]);
  });

  it('allows one MP4 video of at most 300,000,000 bytes, never with images', () => {
    expect(validate('x', [video(300_000_000)])).toEqual([]);
    expect(validate('x', [video(300_000_001)])).toEqual([
      { code: 'media_size', message: 'Bluesky allows videos up to 300,000,000 bytes (300 MB); clip.mp4 is 300,000,001 bytes.' },
    ]);
    expect(validate('x', [video(), video()])).toEqual([
      { code: 'media_count', message: 'Bluesky allows 1 video per post; this post has 2.' },
    ]);
    expect(validate('x', [image(1), video()])).toEqual([
      { code: 'media_mix', message: 'Bluesky allows up to 4 images or 1 video per post, not both; this post has 1 image and 1 video.' },
    ]);
    expect(validate('x', [video(1000, 'video/quicktime')])).toEqual([
      { code: 'media_type', message: 'Bluesky accepts JPEG, PNG, WebP or GIF images and MP4 videos; clip.mp4 is video/quicktime.' },
    ]);
  });
});
