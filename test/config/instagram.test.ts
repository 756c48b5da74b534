/** INSTAGRAM_*: Instagram Login's app turns Instagram on by itself, beside or instead of Meta's app. */
import { describe, expect, it } from 'vitest';
import { ConfigError, integrationSummary, loadConfig, sandboxDecision, sandboxEnvironment } from '../../src/config.js';
import { createPublishers } from '../../src/publishers/registry.js';

const META = { FACEBOOK_APP_ID: 'meta-id', FACEBOOK_APP_SECRET: 'meta-secret' };
const INSTAGRAM = { INSTAGRAM_APP_ID: 'ig-id', INSTAGRAM_APP_SECRET: 'ig-secret' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no configuration error');
}

describe('Instagram Login configuration', () => {
  it('is off by default, with Instagram’s defaults, and both apps named as missing', () => {
    const config = loadConfig({});
    expect(config.platformApps.instagram).toEqual({ enabled: false, missing: 'INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET not set' });
    expect(integrationSummary(config).instagram).toBe(
      'off (FACEBOOK_APP_ID and FACEBOOK_APP_SECRET not set, and INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET not set)',
    );
  });

  it('the Instagram app alone turns Instagram on (Instagram Login only) and leaves Facebook off', () => {
    const config = loadConfig({
      ...INSTAGRAM,
      INSTAGRAM_API_URL: 'https://ig.example/',
      INSTAGRAM_AUTHORIZE_URL: 'https://ig.example/oauth/authorize/',
    });
    expect(config.platformApps.instagram).toEqual({
      enabled: true,
      settings: {
        appId: 'ig-id',
        appSecret: 'ig-secret',
        apiUrl: 'https://ig.example',
        authorizeUrl: 'https://ig.example/oauth/authorize',
      },
    });
    expect(integrationSummary(config)).toMatchObject({ instagram: 'on', facebook: expect.stringMatching(/^off/) });
    const publishers = createPublishers(config);
    expect([...publishers.keys()]).toEqual(['instagram']);
    expect(publishers.get('instagram')?.connectVariants).toBeUndefined();
    expect(new URL(publishers.get('instagram')!.consentUrl({ state: 's', redirectUri: 'https://iqsp.test/cb' })).origin).toBe(
      'https://ig.example',
    );
  });

  it('the default URLs are Instagram’s', () => {
    expect(loadConfig(INSTAGRAM).platformApps.instagram).toMatchObject({
      settings: { apiUrl: 'https://graph.instagram.com', authorizeUrl: 'https://www.instagram.com/oauth/authorize' },
    });
  });

  it('both apps: Instagram offers both ways; Meta’s alone: Facebook Login only', () => {
    const both = createPublishers(loadConfig({ ...META, ...INSTAGRAM }));
    expect(both.get('instagram')?.connectVariants?.map((v) => v.id)).toEqual(['facebook-login', 'instagram-login']);
    expect(createPublishers(loadConfig(META)).get('instagram')?.connectVariants).toBeUndefined();
  });

  it('refuses a half-set pair and a bad URL, naming the variable', () => {
    expect(errorOf({ INSTAGRAM_APP_ID: 'ig-id' }).variable).toBe('INSTAGRAM_APP_SECRET');
    expect(errorOf({ INSTAGRAM_APP_SECRET: 'ig-secret' }).variable).toBe('INSTAGRAM_APP_ID');
    expect(errorOf({ INSTAGRAM_API_URL: 'graph.instagram.com' }).variable).toBe('INSTAGRAM_API_URL');
  });

  it('an Instagram app credential is a real install: no sandbox, and the sandbox drops it', () => {
    expect(sandboxDecision({ INSTAGRAM_APP_ID: 'ig-id' })).toEqual({ run: false, why: 'INSTAGRAM_APP_ID is set' });
    expect(sandboxEnvironment({ ...INSTAGRAM, IQSP_SANDBOX: 'on' }, {})).not.toHaveProperty('INSTAGRAM_APP_SECRET');
  });
});
