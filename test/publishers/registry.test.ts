/** The registry of platform modules, and what is derived from it. */
import { describe, expect, it } from 'vitest';
import { PLATFORM_MODULES, platformApps, platformSimulators, PUBLISH_CONCURRENCY, publishesToList } from '../../src/publishers/registry.js';

describe('the platform registry', () => {
  it('lists the platforms, with their concurrency', () => {
    expect(PLATFORM_MODULES.map((m) => m.id)).toEqual(['facebook', 'instagram', 'x', 'tiktok', 'bluesky']);
    expect(PUBLISH_CONCURRENCY).toEqual({ facebook: 4, instagram: 4, x: 2, tiktok: 2, bluesky: 2 });
    expect(publishesToList()).toBe('Facebook Pages, Instagram, X, TikTok and Bluesky');
  });

  it('parses Meta’s app once for Facebook and Instagram, and starts the Graph simulator once', () => {
    expect(platformApps().map((a) => a.key)).toEqual(['meta', 'x', 'tiktok', 'bluesky']);
    expect(platformSimulators().map((s) => s.key)).toEqual(['graph', 'x', 'tiktok', 'bluesky']);
  });
});
