/** The registry of platform modules, and what is derived from it. */
import { describe, expect, it } from 'vitest';
import { PLATFORM_MODULES, platformApps, platformSimulators, PUBLISH_CONCURRENCY, publishesToList } from '../../src/publishers/registry.js';

describe('the platform registry', () => {
  it('lists the platforms, with their concurrency', () => {
    expect(PLATFORM_MODULES.map((m) => m.id)).toEqual([
      'facebook',
      'instagram',
      'x',
      'tiktok',
      'linkedin',
      'youtube',
      'threads',
      'bluesky',
    ]);
    expect(PUBLISH_CONCURRENCY).toEqual({ facebook: 4, instagram: 4, x: 2, tiktok: 2, linkedin: 2, youtube: 2, threads: 4, bluesky: 2 });
    expect(publishesToList()).toBe('Facebook Pages, Instagram, X, TikTok, LinkedIn, YouTube, Threads and Bluesky');
  });

  it('parses Meta’s app once for Facebook and Instagram, and starts the Graph simulator once', () => {
    expect(platformApps().map((a) => a.key)).toEqual(['meta', 'instagram', 'x', 'tiktok', 'linkedin', 'youtube', 'threads', 'bluesky']);
    expect(platformSimulators().map((s) => s.key)).toEqual(['graph', 'x', 'tiktok', 'linkedin', 'youtube', 'threads', 'bluesky']);
  });
});
