/** Every LinkedIn limit checked before approval, each with its sentence (more-platforms.md §1.6). */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import {
  escapeLittleText,
  measureLinkedinText,
  unescapeLittleText,
  validateLinkedinDraft,
} from '../../../src/publishers/linkedin/limits.js';

function image(n: number, extra: Partial<MediaInfo> = {}): MediaInfo {
  return {
    id: `i${n}`,
    kind: 'image',
    mimeType: 'image/png',
    sizeBytes: 10_000,
    sha256: 'x',
    width: 100,
    height: 100,
    originalName: `i${n}.png`,
    ...extra,
  };
}
function video(extra: Partial<MediaInfo> = {}): MediaInfo {
  return {
    id: 'v',
    kind: 'video',
    mimeType: 'video/mp4',
    sizeBytes: 5_000_000,
    sha256: 'x',
    durationMs: 20_000,
    originalName: 'film.mp4',
    ...extra,
  };
}
const validate = (caption: string, media: MediaInfo[] = []) => validateLinkedinDraft({ caption, media, options: {} });

describe('LinkedIn limits', () => {
  it('counts the unescaped caption in UTF-16 units, up to 3,000', () => {
    expect(validate('a'.repeat(3_000))).toEqual([]);
    // Escaping doubles these, but LinkedIn's limit is on the text as written.
    expect(validate('('.repeat(3_000))).toEqual([]);
    expect(validate('a'.repeat(3_001))).toEqual([
      { code: 'caption_too_long', message: 'LinkedIn allows 3,000 characters; this caption has 3,001.' },
    ]);
    // An emoji outside the BMP is two UTF-16 units.
    expect(validate('😀'.repeat(1_501))).toEqual([
      { code: 'caption_too_long', message: 'LinkedIn allows 3,000 characters; this caption has 3,002.' },
    ]);
    expect(measureLinkedinText('😀 hi')).toEqual([{ used: 5, limit: 3_000, unit: 'characters' }]);
  });

  it('measures a caption with thread separators as the one post it becomes', () => {
    expect(measureLinkedinText('one\n---\ntwo')).toEqual([{ used: 'one\n\ntwo'.length, limit: 3_000, unit: 'characters' }]);
  });

  it('needs a caption or media', () => {
    expect(validate('  ')).toEqual([{ code: 'empty_post', message: 'LinkedIn needs a caption or media; this post has neither.' }]);
    expect(validate('', [image(1)])).toEqual([]);
  });

  it('takes 1 to 20 JPG, PNG or GIF images, or 1 MP4 video, never mixed', () => {
    expect(
      validate(
        'x',
        Array.from({ length: 20 }, (_, i) => image(i)),
      ),
    ).toEqual([]);
    expect(
      validate(
        'x',
        Array.from({ length: 21 }, (_, i) => image(i)),
      ),
    ).toEqual([{ code: 'media_count', message: 'LinkedIn allows up to 20 images per post; this post has 21.' }]);
    expect(validate('x', [image(1, { mimeType: 'image/gif' }), image(2, { mimeType: 'image/jpeg' })])).toEqual([]);
    expect(validate('x', [image(1, { mimeType: 'image/webp' })])).toEqual([
      { code: 'media_type', message: 'LinkedIn accepts JPG, PNG or GIF images and MP4 videos; i1.png is image/webp.' },
    ]);
    expect(validate('x', [video(), video()])).toEqual([
      { code: 'media_count', message: 'LinkedIn allows 1 video per post; this post has 2.' },
    ]);
    expect(validate('x', [image(1), image(2), video()])).toEqual([
      { code: 'media_mix', message: 'LinkedIn allows 1 video or up to 20 images per post, not a mix; this post has 2 images and 1 video.' },
    ]);
  });

  it('takes images under 36,152,320 pixels', () => {
    expect(validate('x', [image(1, { width: 6_000, height: 6_026 })])).toEqual([
      { code: 'media_dimensions', message: 'LinkedIn allows images under 36,152,320 pixels; i1.png is 6000×6026 (36,156,000).' },
    ]);
  });

  it('takes videos of 75 KB to 500 MB lasting 3 seconds to 30 minutes', () => {
    expect(validate('x', [video({ sizeBytes: 75_000, durationMs: 3_000 })])).toEqual([]);
    expect(validate('x', [video({ sizeBytes: 500_000_000, durationMs: 30 * 60_000 })])).toEqual([]);
    expect(validate('x', [video({ sizeBytes: 74_999 })])).toEqual([
      { code: 'media_size', message: 'LinkedIn allows videos from 75 KB to 500 MB; film.mp4 is 75.0 KB.' },
    ]);
    expect(validate('x', [video({ sizeBytes: 600_000_000 })])).toEqual([
      { code: 'media_size', message: 'LinkedIn allows videos from 75 KB to 500 MB; film.mp4 is 600.0 MB.' },
    ]);
    expect(validate('x', [video({ durationMs: 2_400 })])).toEqual([
      { code: 'video_duration', message: 'LinkedIn allows videos from 3 seconds to 30 minutes; film.mp4 lasts 2.4 seconds.' },
    ]);
    expect(validate('x', [video({ durationMs: 31 * 60_000 })])).toEqual([
      { code: 'video_duration', message: 'LinkedIn allows videos from 3 seconds to 30 minutes; film.mp4 lasts 31 minutes.' },
    ]);
    expect(validate('x', [video({ durationMs: undefined })])[0]?.code).toBe('video_duration');
  });

  it('escapes every reserved character of little text, and reads it back', () => {
    const plain = 'a\\b|c{d}e@f[g]h(i)j<k>l#m*n_o~p';
    const escaped = escapeLittleText(plain);
    expect(escaped).toBe('a\\\\b\\|c\\{d\\}e\\@f\\[g\\]h\\(i\\)j\\<k\\>l\\#m\\*n\\_o\\~p');
    expect(unescapeLittleText(escaped)).toBe(plain);
  });
});
