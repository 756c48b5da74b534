/** The registry of platform modules, and what is derived from it. */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_PLATFORMS } from '../../src/core/ports/platforms.js';
import {
  PLATFORM_MODULES,
  platformApps,
  platformDescriptors,
  platformSimulators,
  PUBLISH_CONCURRENCY,
  publishesToList,
} from '../../src/publishers/registry.js';

describe('the platform registry', () => {
  it('lists the four platforms, with their concurrency', () => {
    expect(PLATFORM_MODULES.map((m) => m.id)).toEqual(['facebook', 'instagram', 'x', 'tiktok']);
    expect(PUBLISH_CONCURRENCY).toEqual({ facebook: 4, instagram: 4, x: 2, tiktok: 2 });
    expect(publishesToList()).toBe('Facebook Pages, Instagram, X and TikTok');
  });

  it('parses Meta’s app once for Facebook and Instagram, and starts the Graph simulator once', () => {
    expect(platformApps().map((a) => a.key)).toEqual(['meta', 'x', 'tiktok']);
    expect(platformSimulators().map((s) => s.key)).toEqual(['graph', 'x', 'tiktok']);
  });

  it('is what the core’s built-in descriptions say (kept for callers not yet handed the registry’s)', () => {
    expect(JSON.parse(JSON.stringify(platformDescriptors()))).toEqual(JSON.parse(JSON.stringify(BUILT_IN_PLATFORMS)));
  });
});
