import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { META_OPTIONS } from '../meta/meta-fixtures.js';

const MB = 1024 * 1024;
const publisher = createInstagramPublisher(META_OPTIONS);
const validate = (draft: Partial<PostDraft>) => publisher.validate({ caption: '', media: [image()], options: {}, ...draft });

let seq = 0;
function image(extra: Partial<MediaInfo> = {}): MediaInfo {
  return { id: `i${++seq}`, kind: 'image', mimeType: 'image/jpeg', sizeBytes: 500_000, sha256: 'x', width: 1080, height: 1080, ...extra };
}
function video(extra: Partial<MediaInfo> = {}): MediaInfo {
  return {
    id: `v${++seq}`,
    kind: 'video',
    mimeType: 'video/mp4',
    sizeBytes: 40 * MB,
    sha256: 'x',
    width: 1080,
    height: 1920,
    durationMs: 30_000,
    ...extra,
  };
}

describe('Instagram validation', () => {
  it('accepts JPEG, and PNG or WebP (posted as JPEG), a Reel, and a mixed carousel', () => {
    expect(validate({ media: [image()] })).toEqual([]);
    expect(validate({ media: [image({ mimeType: 'image/png' })] })).toEqual([]);
    expect(validate({ media: [image({ mimeType: 'image/webp' })] })).toEqual([]);
    expect(validate({ media: [video({ mimeType: 'video/quicktime' })] })).toEqual([]);
    expect(validate({ media: [image(), video(), image()] })).toEqual([]);
  });

  it('needs media: text-only posts are impossible', () => {
    expect(validate({ caption: 'Just words', media: [] })).toEqual([
      { code: 'media_required', message: 'Instagram needs at least one image or video; this post has none.' },
    ]);
  });

  it('allows carousels of up to 10 items', () => {
    expect(validate({ media: Array.from({ length: 10 }, () => image()) })).toEqual([]);
    expect(validate({ media: Array.from({ length: 11 }, () => image()) })).toEqual([
      { code: 'media_count', message: 'Instagram allows 10 images or videos per post; this post has 11.' },
    ]);
  });

  it('counts the caption in characters, up to 2,200', () => {
    expect(validate({ caption: '🙂'.repeat(2_200) })).toEqual([]);
    expect(validate({ caption: 'b'.repeat(2_301) })).toEqual([
      { code: 'caption_too_long', message: 'Instagram allows 2,200 characters; this caption counts 2,301.' },
    ]);
  });

  it('allows 30 hashtags and 20 @-mentions', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `#tag${i}`).join(' ');
    const mentions = (n: number) => Array.from({ length: n }, (_, i) => `@user.${i}`).join(' ');
    expect(validate({ caption: `${tags(30)} ${mentions(20)} mail me at a@b.example, see c#sharp` })).toEqual([]);
    expect(validate({ caption: `${tags(31)} ${mentions(21)}` })).toEqual([
      { code: 'hashtag_count', message: 'Instagram allows 30 hashtags; this caption has 31.' },
      { code: 'mention_count', message: 'Instagram allows 20 @-mentions; this caption has 21.' },
    ]);
  });

  it('refuses HEIC and GIF images with a sentence naming the format', () => {
    expect(validate({ media: [image({ mimeType: 'image/heic' })] })).toEqual([
      { code: 'media_type', message: 'Instagram accepts JPEG, PNG or WebP images; this image is HEIC.' },
    ]);
    expect(validate({ media: [image(), image({ mimeType: 'image/gif' })] })).toEqual([
      { code: 'media_type', message: 'Instagram accepts JPEG, PNG or WebP images; image 2 is GIF.' },
    ]);
    expect(validate({ media: [video({ mimeType: 'video/webm' })] })).toEqual([
      { code: 'media_type', message: 'Instagram accepts MP4 or MOV videos; this video is WebM.' },
    ]);
  });

  it('limits JPEG images to 8 MB', () => {
    expect(validate({ media: [image({ sizeBytes: 8 * MB })] })).toEqual([]);
    expect(validate({ media: [image({ sizeBytes: 9.1 * MB })] })).toEqual([
      { code: 'media_size', message: 'Instagram allows images up to 8 MB; this image is 9.1 MB.' },
    ]);
  });

  it('allows image aspect ratios from 4:5 to 1.91:1', () => {
    expect(validate({ media: [image({ width: 1080, height: 1350 }), image({ width: 1910, height: 1000 })] })).toEqual([]);
    expect(validate({ media: [image({ width: 1000, height: 2000 })] })).toEqual([
      { code: 'aspect_ratio', message: 'Instagram allows images from 4:5 (0.8:1) to 1.91:1; this image is 1000×2000 (0.5:1).' },
    ]);
    expect(validate({ media: [image(), image({ width: 2000, height: 1000 })] })).toEqual([
      { code: 'aspect_ratio', message: 'Instagram allows images from 4:5 (0.8:1) to 1.91:1; image 2 is 2000×1000 (2:1).' },
    ]);
  });

  it('limits videos to 300 MB, 3 seconds to 15 minutes, 1,920 pixels wide and 0.01:1 to 10:1', () => {
    expect(validate({ media: [video({ sizeBytes: 301 * MB })] })).toEqual([
      { code: 'media_size', message: 'Instagram allows videos up to 300 MB; this video is 301 MB.' },
    ]);
    expect(validate({ media: [video({ durationMs: undefined })] })).toEqual([
      {
        code: 'video_duration',
        message:
          'Instagram allows videos from 3 seconds to 15 minutes, and IQSP could not read how long this video is; export it again as MP4 or MOV.',
      },
    ]);
    expect(validate({ media: [video({ durationMs: 2_500 })] })).toEqual([
      { code: 'video_duration', message: 'Instagram allows videos from 3 seconds to 15 minutes; this video is 2.5 seconds.' },
    ]);
    expect(validate({ media: [video({ durationMs: 16 * 60_000 })] })).toEqual([
      { code: 'video_duration', message: 'Instagram allows videos from 3 seconds to 15 minutes; this video is 16 minutes.' },
    ]);
    expect(validate({ media: [video({ width: 3840, height: 2160 })] })).toEqual([
      { code: 'video_dimensions', message: 'Instagram allows videos up to 1,920 pixels wide; this video is 3,840 pixels wide.' },
    ]);
    expect(validate({ media: [video({ width: 1900, height: 100 })] })).toEqual([
      { code: 'aspect_ratio', message: 'Instagram allows videos from 0.01:1 to 10:1; this video is 1900×100 (19:1).' },
    ]);
  });
});
