/** Every Threads limit with its message, and the counting (emoji as their UTF-8 bytes). */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { countThreadsCharacters } from '../../../src/publishers/threads/limits.js';
import { threadsPublisher } from './threads-fixtures.js';

const publisher = threadsPublisher();

function media(overrides: Partial<MediaInfo>): MediaInfo {
  return { id: 'm', kind: 'image', mimeType: 'image/jpeg', sizeBytes: 1000, sha256: 'x', ...overrides };
}

function problems(caption: string, files: MediaInfo[] = []): string[] {
  return publisher.validate({ caption, media: files, options: {} }).map((p) => p.message);
}

describe('Threads limits', () => {
  it('counts a grapheme as 1 and an emoji as its UTF-8 bytes', () => {
    expect(countThreadsCharacters('hello')).toBe(5);
    expect(countThreadsCharacters('é')).toBe(1);
    expect(countThreadsCharacters('e\u0301')).toBe(1);
    expect(countThreadsCharacters('日本')).toBe(2);
    expect(countThreadsCharacters('👍')).toBe(4);
    expect(countThreadsCharacters('👍🏽')).toBe(8);
    expect(countThreadsCharacters('👨‍👩‍👧‍👦')).toBe(25);
    expect(countThreadsCharacters('🇫🇷')).toBe(8);
    expect(countThreadsCharacters('1️⃣')).toBe(7);
  });

  it('allows 500 characters and refuses 501, naming the measured count', () => {
    expect(problems('a'.repeat(500))).toEqual([]);
    expect(problems('a'.repeat(501))).toEqual([
      'Threads allows 500 characters (an emoji counts its UTF-8 bytes); this caption counts 501.',
    ]);
    expect(problems(`${'a'.repeat(497)}👍`)).toEqual([
      'Threads allows 500 characters (an emoji counts its UTF-8 bytes); this caption counts 501.',
    ]);
  });

  it('counts each part of a --- chain on its own', () => {
    expect(problems(`${'a'.repeat(500)}\n---\n${'b'.repeat(500)}`)).toEqual([]);
    expect(problems(`short\n---\n${'b'.repeat(502)}`)).toEqual([
      'Threads allows 500 characters (an emoji counts its UTF-8 bytes); part 2 of 2 counts 502.',
    ]);
    expect(publisher.measureText(`Hi 👋\n---\nsecond`)).toEqual([
      { used: 7, limit: 500, unit: 'characters' },
      { used: 6, limit: 500, unit: 'characters' },
    ]);
  });

  it('needs a caption or media', () => {
    expect(problems('')).toEqual(['Threads needs a caption or media; this post has neither.']);
    expect(problems('', [media({})])).toEqual([]);
  });

  it('accepts JPEG and PNG images up to 8 MB', () => {
    expect(problems('x', [media({ mimeType: 'image/png', sizeBytes: 8 * 1024 * 1024 })])).toEqual([]);
    expect(problems('x', [media({ sizeBytes: 9 * 1024 * 1024, originalName: 'big.jpg' })])).toEqual([
      'Threads allows images up to 8 MB; big.jpg is 9.0 MB.',
    ]);
    expect(problems('x', [media({ mimeType: 'image/webp', originalName: 'a.webp' })])).toEqual([
      'Threads accepts JPEG or PNG images and MP4 or MOV videos; a.webp is image/webp.',
    ]);
  });

  it('accepts MP4 and MOV videos up to 5 minutes and 1 GB', () => {
    const video = (o: Partial<MediaInfo>) =>
      media({ kind: 'video', mimeType: 'video/mp4', durationMs: 60_000, originalName: 'v.mp4', ...o });
    expect(problems('x', [video({ mimeType: 'video/quicktime', durationMs: 300_000 })])).toEqual([]);
    expect(problems('x', [video({ durationMs: 301_000 })])).toEqual(['Threads allows videos up to 5 minutes; v.mp4 lasts 5:01 minutes.']);
    expect(problems('x', [video({ sizeBytes: 1025 * 1024 * 1024 })])).toEqual(['Threads allows videos up to 1 GB; v.mp4 is 1025.0 MB.']);
    expect(problems('x', [video({ durationMs: undefined })])).toEqual([
      'Threads allows videos up to 5 minutes, and IQSP could not read how long v.mp4 is; export it again as MP4.',
    ]);
  });

  it('allows a carousel of up to 20 files', () => {
    expect(
      problems(
        'x',
        Array.from({ length: 20 }, () => media({})),
      ),
    ).toEqual([]);
    expect(
      problems(
        'x',
        Array.from({ length: 21 }, () => media({})),
      ),
    ).toEqual(['Threads allows up to 20 files in a carousel; this post has 21.']);
  });
});
