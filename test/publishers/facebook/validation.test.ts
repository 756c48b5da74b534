import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { META_OPTIONS } from '../meta/meta-fixtures.js';

const MB = 1024 * 1024;
const publisher = createFacebookPublisher(META_OPTIONS);
const validate = (draft: Partial<PostDraft>) => publisher.validate({ caption: '', media: [], options: {}, ...draft });

let seq = 0;
const photo = (extra: Partial<MediaInfo> = {}): MediaInfo => ({
  id: `p${++seq}`,
  kind: 'image',
  mimeType: 'image/jpeg',
  sizeBytes: 200_000,
  sha256: 'x',
  width: 1200,
  height: 800,
  ...extra,
});
const video = (extra: Partial<MediaInfo> = {}): MediaInfo => ({
  id: `v${++seq}`,
  kind: 'video',
  mimeType: 'video/mp4',
  sizeBytes: 20 * MB,
  sha256: 'x',
  durationMs: 30_000,
  ...extra,
});

describe('Facebook validation', () => {
  it('accepts text-only posts, photos of every listed format, WebP (posted as JPEG) and one video', () => {
    expect(validate({ caption: 'Just words' })).toEqual([]);
    const formats = ['image/jpeg', 'image/png', 'image/gif', 'image/bmp', 'image/tiff', 'image/webp'];
    expect(validate({ media: formats.map((mimeType) => photo({ mimeType })) })).toEqual([]);
    expect(validate({ caption: 'Clip', media: [video({ mimeType: 'video/quicktime' })] })).toEqual([]);
  });

  it('counts the caption in characters (an emoji is one) up to 63,206', () => {
    expect(validate({ caption: '😀'.repeat(63_206) })).toEqual([]);
    expect(validate({ caption: 'a'.repeat(63_207) })).toEqual([
      { code: 'caption_too_long', message: 'Facebook allows 63,206 characters; this caption counts 63,207.' },
    ]);
  });

  it('needs a caption or media', () => {
    expect(validate({ caption: '  \n' })).toEqual([
      { code: 'caption_required', message: 'Facebook needs a caption or media; this post has neither.' },
    ]);
  });

  it('allows 10 photos, one video, and never both', () => {
    expect(validate({ media: Array.from({ length: 10 }, () => photo()) })).toEqual([]);
    expect(validate({ media: Array.from({ length: 11 }, () => photo()) })).toEqual([
      { code: 'media_count', message: 'Facebook allows 10 photos per post; this post has 11.' },
    ]);
    expect(validate({ media: [video(), video()] })).toEqual([
      { code: 'media_count', message: 'Facebook allows one video per post; this post has 2.' },
    ]);
    expect(validate({ media: [photo(), photo(), video()] })).toEqual([
      { code: 'media_mix', message: "Facebook can't mix photos and a video in one post; this post has 2 photos and 1 video." },
    ]);
  });

  it('refuses other image and video formats, naming the item', () => {
    expect(validate({ media: [photo(), photo({ mimeType: 'image/heic' })] })).toEqual([
      { code: 'media_type', message: 'Facebook accepts JPEG, PNG, GIF, BMP, TIFF or WebP images; image 2 is HEIC.' },
    ]);
    expect(validate({ media: [video({ mimeType: 'video/webm' })] })).toEqual([
      { code: 'media_type', message: 'Facebook accepts MP4 or MOV videos; this video is WebM.' },
    ]);
  });

  it('limits photos to 10 MB', () => {
    expect(validate({ media: [photo({ sizeBytes: 10 * MB })] })).toEqual([]);
    expect(validate({ media: [photo({ sizeBytes: 12.34 * MB })] })).toEqual([
      { code: 'media_size', message: 'Facebook allows photos up to 10 MB; this image is 12.3 MB.' },
    ]);
  });

  it('limits videos to 10 GB and 240 minutes', () => {
    expect(validate({ media: [video({ sizeBytes: 10_241 * MB, durationMs: 241 * 60_000 })] })).toEqual([
      { code: 'media_size', message: 'Facebook allows videos up to 10,240 MB; this video is 10,241 MB.' },
      { code: 'video_duration', message: 'Facebook allows videos up to 240 minutes; this video is 241 minutes.' },
    ]);
  });
});
