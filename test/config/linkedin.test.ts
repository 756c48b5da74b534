/** LinkedIn's configuration variables (contract.md §2): defaults, on and off, a half-set pair refused, the API version checked. */
import { describe, expect, it } from 'vitest';
import { ConfigError, integrationSummary, loadConfig } from '../../src/config.js';
import { createPublishers } from '../../src/publishers/registry.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/iqsp');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('LinkedIn configuration', () => {
  it('is off without credentials, saying which are missing', () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.platformApps.linkedin).toEqual({ enabled: false, missing: 'LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET not set' });
    expect(integrationSummary(config).linkedin).toMatch(/^off/);
    expect(createPublishers(config).has('linkedin')).toBe(false);
  });

  it('is on with both credentials, with the documented base URLs and a recent API version', () => {
    const config = loadConfig({ LINKEDIN_CLIENT_ID: ' id ', LINKEDIN_CLIENT_SECRET: 'secret' }, '/srv/iqsp');
    expect(config.platformApps.linkedin).toEqual({
      enabled: true,
      settings: {
        clientId: 'id',
        clientSecret: 'secret',
        apiUrl: 'https://api.linkedin.com',
        authorizeUrl: 'https://www.linkedin.com/oauth/v2/authorization',
        tokenUrl: 'https://www.linkedin.com/oauth/v2/accessToken',
        apiVersion: '202607',
      },
    });
    expect(integrationSummary(config).linkedin).toBe('on');
    expect(createPublishers(config).get('linkedin')?.displayName).toBe('LinkedIn');
  });

  it('takes its URLs and API version from the environment', () => {
    const config = loadConfig({
      LINKEDIN_CLIENT_ID: 'id',
      LINKEDIN_CLIENT_SECRET: 'secret',
      LINKEDIN_API_URL: 'http://127.0.0.1:4000/',
      LINKEDIN_AUTHORIZE_URL: 'http://127.0.0.1:4000/oauth/v2/authorization',
      LINKEDIN_TOKEN_URL: 'http://127.0.0.1:4000/oauth/v2/accessToken',
      LINKEDIN_API_VERSION: '202612',
    });
    expect(config.platformApps.linkedin).toMatchObject({
      enabled: true,
      settings: { apiUrl: 'http://127.0.0.1:4000', tokenUrl: 'http://127.0.0.1:4000/oauth/v2/accessToken', apiVersion: '202612' },
    });
  });

  it('refuses a half-set pair, a malformed URL and a version not shaped YYYYMM, naming the variable', () => {
    expect(errorOf({ LINKEDIN_CLIENT_ID: 'id' }).variable).toBe('LINKEDIN_CLIENT_SECRET');
    expect(errorOf({ LINKEDIN_CLIENT_SECRET: 's' }).variable).toBe('LINKEDIN_CLIENT_ID');
    expect(errorOf({ LINKEDIN_TOKEN_URL: 'not a url' }).variable).toBe('LINKEDIN_TOKEN_URL');
    const version = errorOf({ LINKEDIN_API_VERSION: '2026-07' });
    expect(version.message).toBe('LINKEDIN_API_VERSION: must be a LinkedIn API version as YYYYMM, e.g. 202607 (got "2026-07")');
    expect(errorOf({ LINKEDIN_API_VERSION: '20260701' }).variable).toBe('LINKEDIN_API_VERSION');
  });
});
