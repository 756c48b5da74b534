/** Every TikTok limit checked by validate(), with the exact sentence a person sees. */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { photoText } from '../../../src/publishers/tiktok/limits.js';
import { createPublisher } from './helpers.js';

const MiB = 1024 * 1024;
const publisher = createPublisher();

const video = (overrides: Partial<MediaInfo> = {}): MediaInfo => ({
  id: 'v',
  kind: 'video',
  mimeType: 'video/mp4',
  sizeBytes: 50 * MiB,
  sha256: 'x',
  width: 1080,
  height: 1920,
  durationMs: 30_000,
  ...overrides,
});
const photo = (overrides: Partial<MediaInfo> = {}): MediaInfo => ({
  id: 'p',
  kind: 'image',
  mimeType: 'image/jpeg',
  sizeBytes: 2 * MiB,
  sha256: 'x',
  width: 1080,
  height: 1350,
  ...overrides,
});
const draft = (media: MediaInfo[], caption = 'Hello #acme', options: Record<string, string> = { privacy: 'public' }): PostDraft => ({
  caption,
  media,
  options,
});

describe('TikTok validation', () => {
  it('accepts a valid video, a single photo and 35 photos', () => {
    expect(publisher.validate(draft([video()]))).toEqual([]);
    expect(publisher.validate(draft([photo()]))).toEqual([]);
    expect(publisher.validate(draft(Array.from({ length: 35 }, (_, i) => photo({ id: `p${i}` }))))).toEqual([]);
    expect(publisher.validate(draft([photo({ mimeType: 'image/webp' }), photo({ mimeType: 'image/png' })]))).toEqual([]);
    expect(publisher.validate(draft([video({ mimeType: 'video/quicktime' })], 'x', { privacy: 'Private' }))).toEqual([]);
  });

  it('requires a privacy level and lists the options', () => {
    expect(publisher.validate(draft([video()], 'x', {}))).toEqual([
      {
        code: 'privacy_required',
        message: 'TikTok needs a privacy level: add tiktok:public, tiktok:friends, tiktok:followers or tiktok:private to the targets.',
      },
    ]);
    expect(publisher.validate(draft([video()], 'x', { privacy: 'everyone' }))).toEqual([
      { code: 'privacy_invalid', message: 'TikTok privacy must be public, friends, followers or private; "everyone" is not one of them.' },
    ]);
  });

  it('refuses text-only posts', () => {
    expect(publisher.validate(draft([]))).toEqual([
      { code: 'media_required', message: 'TikTok needs one video or 1 to 35 photos; this post has no media.' },
    ]);
  });

  it('refuses mixing, several videos and more than 35 photos', () => {
    expect(publisher.validate(draft([video(), photo(), photo()]))).toEqual([
      { code: 'media_mix', message: 'TikTok posts either one video or photos, not both; this post has 1 video and 2 photos.' },
    ]);
    expect(publisher.validate(draft([video(), video()]))).toEqual([
      { code: 'media_count', message: 'TikTok allows one video per post; this post has 2.' },
    ]);
    expect(publisher.validate(draft(Array.from({ length: 36 }, () => photo())))).toEqual([
      { code: 'media_count', message: 'TikTok allows up to 35 photos per post; this post has 36.' },
    ]);
  });

  it('checks photo type and size', () => {
    expect(publisher.validate(draft([photo(), photo({ mimeType: 'image/gif' })]))).toEqual([
      { code: 'media_type', message: 'TikTok accepts JPEG, WebP or PNG photos; photo 2 is image/gif.' },
    ]);
    expect(publisher.validate(draft([photo({ sizeBytes: 21.5 * MiB })]))).toEqual([
      { code: 'media_size', message: 'TikTok allows photos up to 20 MB; the photo is 21.5 MB.' },
    ]);
  });

  it('checks video type, size, duration and dimensions', () => {
    expect(publisher.validate(draft([video({ mimeType: 'video/x-matroska' })]))).toEqual([
      { code: 'media_type', message: 'TikTok accepts MP4, MOV or WebM videos; this video is video/x-matroska.' },
    ]);
    expect(publisher.validate(draft([video({ sizeBytes: 4.2 * 1024 * MiB })]))).toEqual([
      { code: 'media_size', message: 'TikTok allows videos up to 4 GB; this video is 4.2 GB.' },
    ]);
    expect(publisher.validate(draft([video({ durationMs: 630_000 })]))).toEqual([
      { code: 'video_duration', message: 'TikTok allows videos up to 600 seconds; this video lasts 630 seconds.' },
    ]);
    // A length IQSP could not read (a WebM, a damaged file) cannot be checked: refused before approval.
    expect(publisher.validate(draft([video({ mimeType: 'video/webm', durationMs: undefined })]))).toEqual([
      {
        code: 'video_duration',
        message:
          'TikTok allows videos up to 600 seconds, and IQSP could not read how long this video is (it reads MP4 and MOV); send it as MP4 or MOV.',
      },
    ]);
    expect(publisher.validate(draft([video({ width: 320, height: 240 })]))).toEqual([
      { code: 'video_dimensions', message: 'TikTok needs videos of 360 to 4096 pixels on each side; this video is 320×240.' },
    ]);
    expect(publisher.validate(draft([video({ width: 4097, height: 2160 })]))[0]?.code).toBe('video_dimensions');
  });

  it('counts a video caption in UTF-16 units against 2,200', () => {
    expect(publisher.validate(draft([video()], 'a'.repeat(2_200)))).toEqual([]);
    // Each emoji is two UTF-16 units, as TikTok counts them.
    expect(publisher.validate(draft([video()], '😀'.repeat(1_101)))).toEqual([
      { code: 'caption_too_long', message: 'TikTok allows 2,200 characters in a video caption; this caption counts 2,202.' },
    ]);
  });

  it("counts a photo post's description against 4,000, with a short first line as its title", () => {
    expect(publisher.validate(draft([photo()], 'a'.repeat(4_000)))).toEqual([]);
    expect(publisher.validate(draft([photo()], `Title\n${'a'.repeat(4_000)}`))).toEqual([]);
    expect(publisher.validate(draft([photo()], 'a'.repeat(4_001)))).toEqual([
      { code: 'caption_too_long', message: "TikTok allows 4,000 characters in a photo post's description; this caption counts 4,001." },
    ]);
  });

  it('reports every problem at once', () => {
    const codes = publisher
      .validate(draft([video({ mimeType: 'video/avi', durationMs: 700_000 })], 'a'.repeat(2_300), {}))
      .map((p) => p.code);
    expect(codes).toEqual(['privacy_required', 'media_type', 'video_duration', 'caption_too_long']);
  });
});

describe('photoText', () => {
  it('uses a first line of up to 90 characters as the title when more text follows', () => {
    expect(photoText('New colours\nAvailable today #acme')).toEqual({ title: 'New colours', description: 'Available today #acme' });
    expect(photoText(`${'t'.repeat(90)}\nrest`)).toEqual({ title: 't'.repeat(90), description: 'rest' });
  });

  it('keeps the whole caption as the description otherwise, never cutting text', () => {
    expect(photoText('One line only')).toEqual({ description: 'One line only' });
    expect(photoText(`${'t'.repeat(91)}\nrest`)).toEqual({ description: `${'t'.repeat(91)}\nrest` });
    expect(photoText('')).toEqual({ description: '' });
  });
});
