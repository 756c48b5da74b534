/** YouTube's variables (contract §2): off by default, on with both Google credentials and Google's URLs, a half-set pair refused. */
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

describe('YouTube configuration', () => {
  it('is off without GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, and says why', () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.platformApps.youtube).toEqual({ enabled: false, missing: 'GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET not set' });
    expect(integrationSummary(config).youtube).toBe('off (GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET not set)');
  });

  it('is on with both credentials, with Google’s documented URLs by default', () => {
    const config = loadConfig(
      { GOOGLE_CLIENT_ID: ' 1234-iqsp.apps.googleusercontent.com ', GOOGLE_CLIENT_SECRET: 'GOCSPX-s' },
      '/srv/iqsp',
    );
    expect(config.platformApps.youtube).toEqual({
      enabled: true,
      settings: {
        clientId: '1234-iqsp.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-s',
        apiUrl: 'https://www.googleapis.com',
        authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenUrl: 'https://oauth2.googleapis.com/token',
      },
    });
    expect(integrationSummary(config).youtube).toBe('on');
  });

  it('takes YOUTUBE_API_URL, GOOGLE_AUTHORIZE_URL and GOOGLE_TOKEN_URL (a trailing slash dropped)', () => {
    const config = loadConfig(
      {
        GOOGLE_CLIENT_ID: 'id',
        GOOGLE_CLIENT_SECRET: 's',
        YOUTUBE_API_URL: 'http://127.0.0.1:4000/',
        GOOGLE_AUTHORIZE_URL: 'http://127.0.0.1:4000/o/oauth2/v2/auth',
        GOOGLE_TOKEN_URL: 'http://127.0.0.1:4000/token',
      },
      '/srv/iqsp',
    );
    expect(config.platformApps.youtube).toMatchObject({
      settings: {
        apiUrl: 'http://127.0.0.1:4000',
        authorizeUrl: 'http://127.0.0.1:4000/o/oauth2/v2/auth',
        tokenUrl: 'http://127.0.0.1:4000/token',
      },
    });
  });

  it.each([
    [{ GOOGLE_CLIENT_ID: 'id' }, 'GOOGLE_CLIENT_SECRET', /must be set when GOOGLE_CLIENT_ID is set/],
    [{ GOOGLE_CLIENT_SECRET: 's' }, 'GOOGLE_CLIENT_ID', /must be set/],
    [{ YOUTUBE_API_URL: 'googleapis' }, 'YOUTUBE_API_URL', /URL/],
    [{ GOOGLE_TOKEN_URL: 'ftp://oauth2.googleapis.com/token' }, 'GOOGLE_TOKEN_URL', /http\(s\)/],
  ])('refuses %o naming %s', (env, variable, problem) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(problem);
  });
});
