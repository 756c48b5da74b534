/** The Threads variables (contract §2): defaults, on and off, a half-set pair refused, the sandbox's view of them. */
import { describe, expect, it } from 'vitest';
import { ConfigError, integrationSummary, loadConfig, sandboxDecision, sandboxEnvironment } from '../../src/config.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/iqsp');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Threads configuration', () => {
  it('is off without its credentials, and says which are missing', () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.platformApps.threads).toEqual({ enabled: false, missing: 'THREADS_APP_ID and THREADS_APP_SECRET not set' });
    expect(integrationSummary(config).threads).toBe('off (THREADS_APP_ID and THREADS_APP_SECRET not set)');
  });

  it('is on with both credentials, with the documented base URLs', () => {
    const config = loadConfig({ THREADS_APP_ID: ' 123 ', THREADS_APP_SECRET: 'secret' }, '/srv/iqsp');
    expect(config.platformApps.threads).toEqual({
      enabled: true,
      settings: {
        appId: '123',
        appSecret: 'secret',
        apiUrl: 'https://graph.threads.net/v1.0',
        authorizeUrl: 'https://threads.net/oauth/authorize',
      },
    });
    expect(integrationSummary(config).threads).toBe('on');
  });

  it('takes other base URLs, without a trailing slash', () => {
    const config = loadConfig({
      THREADS_APP_ID: '1',
      THREADS_APP_SECRET: 's',
      THREADS_API_URL: 'https://graph.threads.com/v1.0/',
      THREADS_AUTHORIZE_URL: 'https://www.threads.com/oauth/authorize/',
    });
    expect(config.platformApps.threads).toMatchObject({
      settings: { apiUrl: 'https://graph.threads.com/v1.0', authorizeUrl: 'https://www.threads.com/oauth/authorize' },
    });
  });

  it.each([
    [{ THREADS_APP_ID: '1' }, 'THREADS_APP_SECRET', /must be set when THREADS_APP_ID is set/],
    [{ THREADS_APP_SECRET: 's' }, 'THREADS_APP_ID', /must be set/],
    [{ THREADS_API_URL: 'graph.threads.net' }, 'THREADS_API_URL', /URL/],
    [{ THREADS_AUTHORIZE_URL: 'nope' }, 'THREADS_AUTHORIZE_URL', /URL/],
  ])('refuses %o naming %s', (env, variable, problem) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(problem);
  });

  it('a Threads credential means a real install: no sandbox, and the sandbox drops them', () => {
    expect(sandboxDecision({ THREADS_APP_ID: '1' })).toEqual({ run: false, why: 'THREADS_APP_ID is set' });
    const env = sandboxEnvironment(
      { THREADS_APP_ID: '1', THREADS_APP_SECRET: 's', LOG_LEVEL: 'debug' },
      { THREADS_API_URL: 'http://127.0.0.1:1/v1.0' },
    );
    expect(env.THREADS_APP_ID).toBeUndefined();
    expect(env.THREADS_APP_SECRET).toBeUndefined();
    expect(env).toMatchObject({ LOG_LEVEL: 'debug', THREADS_API_URL: 'http://127.0.0.1:1/v1.0' });
  });
});
