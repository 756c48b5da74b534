import { describe, expect, it } from 'vitest';
import { graphVideoUrl, pollTiming } from '../../../src/publishers/meta/options.js';
import { META_OPTIONS } from './meta-fixtures.js';

describe('Meta options', () => {
  it('uploads videos to graph-video.facebook.com when the Graph base is Meta’s, keeping the version', () => {
    expect(graphVideoUrl('https://graph.facebook.com/v26.0')).toBe('https://graph-video.facebook.com/v26.0');
    expect(graphVideoUrl('https://graph.facebook.com/v27.0/')).toBe('https://graph-video.facebook.com/v27.0');
  });

  it('keeps any other base (a proxy or a local simulator) for videos too', () => {
    expect(graphVideoUrl('http://127.0.0.1:4010/v26.0')).toBe('http://127.0.0.1:4010/v26.0');
  });

  it('polls every 5 s for up to 10 minutes unless told otherwise', () => {
    const { pollIntervalMs: _i, maxWaitMs: _m, ...defaults } = META_OPTIONS;
    expect(pollTiming(defaults)).toEqual({ intervalMs: 5_000, maxWaitMs: 600_000 });
    expect(pollTiming(META_OPTIONS)).toEqual({ intervalMs: 1, maxWaitMs: 2_000 });
  });
});
