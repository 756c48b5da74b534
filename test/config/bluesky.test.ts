/** Bluesky's variables (contract §2): BLUESKY_ENABLED turns it on (no credentials), its base URLs have defaults and are checked. */
import { describe, expect, it } from 'vitest';
import { ConfigError, integrationSummary, loadConfig } from '../../src/config.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/iqsp');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Bluesky configuration', () => {
  it('is off by default, and says which variable turns it on', () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.platformApps.bluesky).toEqual({ enabled: false, missing: 'BLUESKY_ENABLED not true' });
    expect(integrationSummary(config).bluesky).toBe('off (BLUESKY_ENABLED not true)');
    expect(loadConfig({ BLUESKY_ENABLED: 'false' }).platformApps.bluesky?.enabled).toBe(false);
  });

  it('BLUESKY_ENABLED=true turns it on with the documented defaults', () => {
    const config = loadConfig({ BLUESKY_ENABLED: 'true' });
    expect(config.platformApps.bluesky).toEqual({
      enabled: true,
      settings: { plcUrl: 'https://plc.directory', handleResolverUrl: 'https://bsky.social', videoUrl: 'https://video.bsky.app' },
    });
    expect(integrationSummary(config).bluesky).toBe('on');
    expect(loadConfig({ BLUESKY_ENABLED: 'TRUE' }).platformApps.bluesky?.enabled).toBe(true);
  });

  it('takes its base URLs from the environment, trailing slashes removed', () => {
    const config = loadConfig({
      BLUESKY_ENABLED: 'true',
      BLUESKY_PLC_URL: 'https://plc.example/',
      BLUESKY_HANDLE_RESOLVER: 'https://pds.example',
      BLUESKY_VIDEO_URL: 'https://video.example/',
    });
    expect(config.platformApps.bluesky).toMatchObject({
      settings: { plcUrl: 'https://plc.example', handleResolverUrl: 'https://pds.example', videoUrl: 'https://video.example' },
    });
  });

  it.each([
    [{ BLUESKY_ENABLED: 'yes' }, 'BLUESKY_ENABLED', /true or false/],
    [{ BLUESKY_PLC_URL: 'plc.directory' }, 'BLUESKY_PLC_URL', /URL/],
    // A typo in a URL is refused even while Bluesky is off.
    [{ BLUESKY_HANDLE_RESOLVER: 'bsky social' }, 'BLUESKY_HANDLE_RESOLVER', /URL/],
    [{ BLUESKY_ENABLED: 'true', BLUESKY_VIDEO_URL: 'video' }, 'BLUESKY_VIDEO_URL', /URL/],
  ])('refuses %o naming %s', (env, variable, problem) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(problem);
  });
});
