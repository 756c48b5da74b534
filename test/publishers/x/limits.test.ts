/** X validation: weighted length, cashtags, media kinds, counts, mixing, sizes, video limits. */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { xPublisher } from './x-fixtures.js';

const MB = 1024 * 1024;

function media(id: string, mimeType: string, extra: Partial<MediaInfo> = {}): MediaInfo {
  const kind = mimeType.startsWith('video/') ? 'video' : 'image';
  return { id, kind, mimeType, sizeBytes: 100_000, sha256: 'x', originalName: `${id}`, ...extra };
}
const image = (id: string, extra: Partial<MediaInfo> = {}) => media(`${id}.png`, 'image/png', { width: 800, height: 600, ...extra });
const video = (extra: Partial<MediaInfo> = {}) =>
  media('clip.mp4', 'video/mp4', { width: 1280, height: 720, durationMs: 30_000, ...extra });

function validate(caption: string, files: MediaInfo[] = []) {
  const draft: PostDraft = { caption, media: files, options: {} };
  return xPublisher().validate(draft);
}

describe('X caption length (weighted, twitter-text)', () => {
  it('accepts 280 plain characters and refuses 281 with the measured count', () => {
    expect(validate('a'.repeat(280))).toEqual([]);
    expect(validate('a'.repeat(281))).toEqual([{ code: 'caption_too_long', message: 'X allows 280 characters; this caption counts 281.' }]);
  });

  it('counts every URL as 23, however long', () => {
    const url = `https://example.com/${'p'.repeat(200)}`;
    // 256 letters + space + URL (23) = 280.
    expect(validate(`${'a'.repeat(256)} ${url}`)).toEqual([]);
    expect(validate(`${'a'.repeat(257)} ${url}`)).toEqual([
      { code: 'caption_too_long', message: 'X allows 280 characters; this caption counts 281.' },
    ]);
  });

  it('counts every emoji as 2, ZWJ sequences included', () => {
    expect(validate('😀'.repeat(140))).toEqual([]);
    expect(validate('👩‍👩‍👧'.repeat(141))).toEqual([
      { code: 'caption_too_long', message: 'X allows 280 characters; this caption counts 282.' },
    ]);
  });

  it('counts CJK as 2', () => {
    expect(validate('漢'.repeat(141))[0]?.message).toBe('X allows 280 characters; this caption counts 282.');
  });
});

describe('X text rules', () => {
  it('allows a text-only post', () => {
    expect(validate('Hello')).toEqual([]);
  });

  it('refuses a post with neither text nor media', () => {
    expect(validate('  ')).toEqual([{ code: 'empty_post', message: 'X needs a caption or media; this post has neither.' }]);
  });

  it('allows a media-only post', () => {
    expect(validate('', [image('a')])).toEqual([]);
  });

  it('allows 1 cashtag per API post', () => {
    expect(validate('$ACME is up')).toEqual([]);
    expect(validate('$ACME and $BETA')).toEqual([
      { code: 'cashtags', message: 'X allows 1 cashtag per post made through its API; this caption has 2.' },
    ]);
  });
});

describe('X media rules', () => {
  it('allows up to 4 images and refuses 5', () => {
    expect(
      validate(
        'x',
        ['a', 'b', 'c', 'd'].map((id) => image(id)),
      ),
    ).toEqual([]);
    expect(
      validate(
        'x',
        ['a', 'b', 'c', 'd', 'e'].map((id) => image(id)),
      ),
    ).toEqual([{ code: 'media_count', message: 'X allows up to 4 images per post; this post has 5.' }]);
  });

  it('allows one video and refuses two', () => {
    expect(validate('x', [video()])).toEqual([]);
    expect(validate('x', [video(), video()])).toEqual([{ code: 'media_count', message: 'X allows 1 video per post; this post has 2.' }]);
  });

  it('allows one GIF and refuses two', () => {
    const gif = media('a.gif', 'image/gif', { width: 400, height: 300 });
    expect(validate('x', [gif])).toEqual([]);
    expect(validate('x', [gif, gif])).toEqual([{ code: 'media_count', message: 'X allows 1 GIF per post; this post has 2.' }]);
  });

  it('refuses mixing images, GIFs and videos', () => {
    expect(validate('x', [image('a'), image('b'), video()])).toEqual([
      {
        code: 'media_mix',
        message: 'X allows up to 4 images, or 1 GIF, or 1 video per post, not a mix; this post has 2 images and 1 video.',
      },
    ]);
    expect(validate('x', [media('a.gif', 'image/gif'), image('b')])).toEqual([
      { code: 'media_mix', message: 'X allows up to 4 images, or 1 GIF, or 1 video per post, not a mix; this post has 1 image and 1 GIF.' },
    ]);
  });

  it('accepts JPEG, PNG, WebP, GIF and MP4 by sniffed type only', () => {
    expect(validate('x', [media('a.jpg', 'image/jpeg'), media('b.webp', 'image/webp')])).toEqual([]);
    expect(validate('x', [media('photo.heic', 'image/heic')])).toEqual([
      { code: 'media_type', message: 'X accepts JPEG, PNG, WebP or GIF images and MP4 videos; photo.heic is image/heic.' },
    ]);
    expect(validate('x', [media('clip.mov', 'video/quicktime')])).toEqual([
      { code: 'media_type', message: 'X accepts JPEG, PNG, WebP or GIF images and MP4 videos; clip.mov is video/quicktime.' },
    ]);
  });

  it('names a file by position when it has no name', () => {
    expect(validate('x', [image('a'), { ...media('z', 'image/avif'), originalName: undefined }])[0]?.message).toBe(
      'X accepts JPEG, PNG, WebP or GIF images and MP4 videos; file 2 is image/avif.',
    );
  });
});

describe('X file limits', () => {
  it('images up to 5 MB', () => {
    expect(validate('x', [image('a', { sizeBytes: 5 * MB })])).toEqual([]);
    expect(validate('x', [image('big', { sizeBytes: 6.2 * MB })])).toEqual([
      { code: 'media_size', message: 'X allows images up to 5 MB; big.png is 6.2 MB.' },
    ]);
  });

  it('GIFs up to 15 MB and 1280×1080', () => {
    expect(validate('x', [media('a.gif', 'image/gif', { sizeBytes: 15 * MB, width: 1280, height: 1080 })])).toEqual([]);
    expect(validate('x', [media('a.gif', 'image/gif', { sizeBytes: 16 * MB, width: 1920, height: 1080 })])).toEqual([
      { code: 'media_size', message: 'X allows GIFs up to 15 MB; a.gif is 16.0 MB.' },
      { code: 'media_dimensions', message: 'X allows GIFs up to 1280×1080 pixels; a.gif is 1920×1080.' },
    ]);
  });

  it('videos up to 512 MB', () => {
    expect(validate('x', [video({ sizeBytes: 512 * MB })])).toEqual([]);
    expect(validate('x', [video({ sizeBytes: 600 * MB })])).toEqual([
      { code: 'media_size', message: 'X allows videos up to 512 MB; clip.mp4 is 600.0 MB.' },
    ]);
  });

  it('videos from 0.5 to 140 seconds', () => {
    expect(validate('x', [video({ durationMs: 500 })])).toEqual([]);
    expect(validate('x', [video({ durationMs: 140_000 })])).toEqual([]);
    expect(validate('x', [video({ durationMs: 150_240 })])).toEqual([
      { code: 'video_duration', message: 'X allows videos from 0.5 to 140 seconds; clip.mp4 lasts 150.2 seconds.' },
    ]);
    expect(validate('x', [video({ durationMs: 300 })])).toEqual([
      { code: 'video_duration', message: 'X allows videos from 0.5 to 140 seconds; clip.mp4 lasts 0.3 seconds.' },
    ]);
    expect(validate('x', [video({ durationMs: undefined })])).toEqual([
      {
        code: 'video_duration',
        message: 'X allows videos from 0.5 to 140 seconds, and IQSP could not read how long clip.mp4 is; export it again as MP4.',
      },
    ]);
  });

  it('videos from 32×32 to 1280×1024, in either orientation', () => {
    expect(validate('x', [video({ width: 720, height: 1280 })])).toEqual([]);
    expect(validate('x', [video({ width: 1280, height: 1024 })])).toEqual([]);
    expect(validate('x', [video({ width: 1920, height: 1080 })])).toEqual([
      { code: 'media_dimensions', message: 'X allows videos from 32×32 to 1280×1024 pixels; clip.mp4 is 1920×1080.' },
    ]);
    expect(validate('x', [video({ width: 20, height: 40 })])).toEqual([
      { code: 'media_dimensions', message: 'X allows videos from 32×32 to 1280×1024 pixels; clip.mp4 is 20×40.' },
    ]);
  });

  it('video aspect ratios from 1:3 to 3:1', () => {
    expect(validate('x', [video({ width: 1200, height: 400 })])).toEqual([]);
    expect(validate('x', [video({ width: 1280, height: 320 })])).toEqual([
      { code: 'media_aspect', message: 'X allows video aspect ratios from 1:3 to 3:1; clip.mp4 is 4.00:1.' },
    ]);
    expect(validate('x', [video({ width: 300, height: 1000 })])).toEqual([
      { code: 'media_aspect', message: 'X allows video aspect ratios from 1:3 to 3:1; clip.mp4 is 1:3.33.' },
    ]);
  });

  it('reports every problem of a draft at once', () => {
    const problems = validate('a'.repeat(300), [video({ durationMs: 200_000, sizeBytes: 700 * MB })]);
    expect(problems.map((p) => p.code)).toEqual(['caption_too_long', 'media_size', 'video_duration']);
  });
});

describe('X threads (a line or a word that is exactly ---)', () => {
  const part = (n: number, length: number) => `${String(n)}${'a'.repeat(length - 1)}`;

  it('counts each part against 280 and names the part that is too long', () => {
    const thread = [part(1, 280), part(2, 301), part(3, 12)].join('\n---\n');
    expect(validate(thread)).toEqual([{ code: 'caption_too_long', message: 'X allows 280 characters; part 2 of 3 counts 301.' }]);
    // The whole thread is far over 280: only the parts are counted.
    expect(validate([part(1, 280), part(2, 280), part(3, 280)].join('\n---\n'))).toEqual([]);
  });

  it('splits on --- as a word too, and not on --- inside a word', () => {
    expect(validate(`${part(1, 200)} --- ${part(2, 200)}`)).toEqual([]);
    expect(validate(`${part(1, 200)}---${part(2, 200)}`)).toEqual([
      { code: 'caption_too_long', message: 'X allows 280 characters; this caption counts 403.' },
    ]);
  });

  it('allows up to 25 parts', () => {
    const parts = (n: number) => Array.from({ length: n }, (_, i) => `Part ${i + 1}`).join('\n---\n');
    expect(validate(parts(25))).toEqual([]);
    expect(validate(parts(26))).toEqual([{ code: 'thread_parts', message: 'X threads allow up to 25 parts; this one has 26.' }]);
  });

  it('counts cashtags per part', () => {
    expect(validate('$AAPL up --- $MSFT too')).toEqual([]);
    expect(validate('Hi --- $AAPL and $MSFT')).toEqual([
      { code: 'cashtags', message: 'X allows 1 cashtag per post made through its API; part 2 of 2 has 2.' },
    ]);
  });

  it('refuses a part that repeats an earlier one (X refuses duplicate text)', () => {
    expect(validate('Same\n---\nOther\n---\nSame')).toEqual([
      { code: 'thread_duplicate', message: 'X refuses a post with the same text as an earlier one; part 3 of 3 repeats part 1.' },
    ]);
  });

  it('checks the media once, as the first part carries them all', () => {
    expect(validate('One --- Two', [image('a'), image('b'), image('c'), image('d')])).toEqual([]);
    expect(validate('One --- Two', [image('a'), image('b'), image('c'), image('d'), image('e')])).toEqual([
      { code: 'media_count', message: 'X allows up to 4 images per post; this post has 5.' },
    ]);
  });

  it('drops empty parts; only separators and no media is an empty post', () => {
    expect(validate('---\nHello\n---\n---')).toEqual([]);
    expect(validate('--- ---')).toEqual([{ code: 'empty_post', message: 'X needs a caption or media; this post has neither.' }]);
    expect(validate('---', [image('a')])).toEqual([]);
  });
});
