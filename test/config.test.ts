import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, environmentWithDotenv, integrationSummary, loadConfig } from '../src/config.js';

const KEY = Buffer.alloc(32, 1).toString('base64');

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/iqsp');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults with an empty environment', () => {
    const config = loadConfig({}, '/srv/iqsp');
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'sqlite', path: '/srv/iqsp/data/iqsp.sqlite' });
    expect(config.mediaDir).toBe('/srv/iqsp/data/media');
    expect(config.vault).toEqual({ key: undefined, keyFile: '/srv/iqsp/data/vault.key', previousKeys: [] });
    expect(config.approvalsRequired).toBe(1);
    expect(config.approvalTtlHours).toBe(72);
    expect(config.mediaTtlHours).toBe(24);
    expect(config.cleanupCron).toBe('*/10 * * * *');
    expect(config.logLevel).toBe('info');
    expect(config.platformApps.meta?.enabled).toBe(false);
    expect(config.platformApps.x?.enabled).toBe(false);
  });

  it('follows PORT in the default PUBLIC_URL and strips a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://iqsp.example.com/' }).publicUrl).toBe('https://iqsp.example.com');
  });

  it('enables an integration when its credentials are set, with default base URLs', () => {
    const config = loadConfig({ X_CLIENT_ID: 'id', X_CLIENT_SECRET: 'secret', FACEBOOK_APP_ID: '1', FACEBOOK_APP_SECRET: 's' });
    expect(config.platformApps.x).toMatchObject({
      enabled: true,
      settings: { clientId: 'id', apiUrl: 'https://api.x.com', authorizeUrl: 'https://x.com/i/oauth2/authorize' },
    });
    expect(config.platformApps.meta).toMatchObject({ enabled: true, settings: { graphApiUrl: 'https://graph.facebook.com/v26.0' } });
    expect(integrationSummary(config)).toMatchObject({ x: 'on', facebook: 'on', instagram: 'on', tiktok: expect.stringMatching(/^off/) });
  });

  it('parses each platform app once, from its module: URLs normalised as before, TikTok’s consent URL kept as given', () => {
    const config = loadConfig({
      TIKTOK_CLIENT_KEY: 'k',
      TIKTOK_CLIENT_SECRET: 's',
      TIKTOK_AUTHORIZE_URL: 'https://tiktok.example/auth/',
      GRAPH_API_URL: 'https://graph.example/v1/',
    });
    expect(config.platformApps.tiktok).toEqual({
      enabled: true,
      settings: { clientKey: 'k', clientSecret: 's', apiUrl: 'https://open.tiktokapis.com', authorizeUrl: 'https://tiktok.example/auth/' },
    });
    expect(config.platformApps.meta).toEqual({ enabled: false, missing: 'FACEBOOK_APP_ID and FACEBOOK_APP_SECRET not set' });
    expect(Object.keys(config.platformApps)).toEqual(['meta', 'instagram', 'x', 'tiktok', 'linkedin', 'youtube', 'threads', 'bluesky']);
    expect(integrationSummary(config)).toMatchObject({
      facebook: 'off (FACEBOOK_APP_ID and FACEBOOK_APP_SECRET not set)',
      instagram: 'off (FACEBOOK_APP_ID and FACEBOOK_APP_SECRET not set, and INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET not set)',
      tiktok: 'on',
    });
    // A platform's base URL is checked before the database, its credentials after the chats.
    expect(errorOf({ X_API_URL: 'nope', DATABASE_URL: 'mysql://x' }).variable).toBe('X_API_URL');
    expect(errorOf({ X_CLIENT_ID: 'id', DATABASE_URL: 'mysql://x' }).variable).toBe('DATABASE_URL');
    expect(errorOf({ X_CLIENT_ID: 'id', DISCORD_TOKEN: 't' }).variable).toBe('DISCORD_APPLICATION_ID');
  });

  it('reads Slack modes', () => {
    const config = loadConfig({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    expect(config.slack).toMatchObject({ enabled: true, apiUrl: 'https://slack.com/api/' });
    expect(integrationSummary(config).slack).toBe('on (single workspace, Socket Mode)');
    // Socket Mode needs no signing secret (contract §2: the secret enables HTTP mode).
    const socketOnly = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    expect(socketOnly.slack).toMatchObject({ enabled: true, signingSecret: undefined, appToken: 'xapp-1' });
  });

  it('parses keys and previous keys', () => {
    const config = loadConfig({
      VAULT_KEY: KEY,
      VAULT_PREVIOUS_KEYS: `${Buffer.alloc(32, 2).toString('base64')}, ${Buffer.alloc(32, 3).toString('base64url')}`,
    });
    expect(config.vault.key).toEqual(Buffer.alloc(32, 1));
    expect(config.vault.previousKeys).toEqual([Buffer.alloc(32, 2), Buffer.alloc(32, 3)]);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', /port number/],
    [{ PORT: '70000' }, 'PORT', /port number/],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL', /absolute http\(s\) URL/],
    [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL', /http\(s\)/],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', /sqlite: or postgres/],
    [{ VAULT_KEY: 'c2hvcnQ=' }, 'VAULT_KEY', /32 random bytes.*got 5 bytes/],
    [{ VAULT_KEY: 'not base64!' }, 'VAULT_KEY', /base64/],
    [{ VAULT_PREVIOUS_KEYS: `${KEY},abc` }, 'VAULT_PREVIOUS_KEYS', /entry 2/],
    [{ CLEANUP_CRON: 'every ten minutes' }, 'CLEANUP_CRON', /cron expression/],
    [{ CLEANUP_CRON: '* * *' }, 'CLEANUP_CRON', /cron expression/],
    [{ APPROVALS_REQUIRED: '-1' }, 'APPROVALS_REQUIRED', /whole number/],
    [{ APPROVALS_REQUIRED: '1.5' }, 'APPROVALS_REQUIRED', /whole number/],
    [{ APPROVAL_TTL_HOURS: '0' }, 'APPROVAL_TTL_HOURS', /positive/],
    [{ MEDIA_TTL_HOURS: 'soon' }, 'MEDIA_TTL_HOURS', /positive/],
    [{ DEFAULT_TIMEZONE: 'Mars/Olympus_Mons' }, 'DEFAULT_TIMEZONE', /IANA time zone.*"Mars\/Olympus_Mons" is not one/],
    [{ DEFAULT_TIMEZONE: '+02:00' }, 'DEFAULT_TIMEZONE', /IANA time zone/],
    [{ SCHEDULE_MAX_DAYS: '0' }, 'SCHEDULE_MAX_DAYS', /whole number of days/],
    [{ SCHEDULE_MAX_DAYS: '2.5' }, 'SCHEDULE_MAX_DAYS', /whole number of days/],
    [{ PUBLISH_CONCURRENCY: '0' }, 'PUBLISH_CONCURRENCY', /positive whole number/],
    [{ PUBLISH_CONCURRENCY: '2.5' }, 'PUBLISH_CONCURRENCY', /positive whole number/],
    [{ PUBLISH_CONCURRENCY: 'many' }, 'PUBLISH_CONCURRENCY', /positive whole number.*"many"/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ GRAPH_API_URL: 'graph' }, 'GRAPH_API_URL', /URL/],
    [{ X_CLIENT_ID: 'id' }, 'X_CLIENT_SECRET', /must be set when X_CLIENT_ID is set/],
    [{ TIKTOK_CLIENT_SECRET: 's' }, 'TIKTOK_CLIENT_KEY', /must be set/],
    [{ DISCORD_TOKEN: 't' }, 'DISCORD_APPLICATION_ID', /must be set/],
    [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET', /must be set .*or set SLACK_APP_TOKEN for Socket Mode/],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxp-1' }, 'SLACK_BOT_TOKEN', /xoxb-/],
    [{ SLACK_SIGNING_SECRET: 's' }, 'SLACK_BOT_TOKEN', /SLACK_CLIENT_ID/],
  ])('refuses %o naming %s', (env, variable, problem) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain('\n');
  });

  it('reads PUBLISH_CONCURRENCY, the publishes one worker runs at once (default 16)', () => {
    expect(loadConfig({}).publishConcurrency).toBe(16);
    expect(loadConfig({ PUBLISH_CONCURRENCY: '40' }).publishConcurrency).toBe(40);
  });

  it('reads DEFAULT_TIMEZONE as the canonical IANA name, and SCHEDULE_MAX_DAYS (defaults UTC, 30)', () => {
    expect(loadConfig({}).defaultTimeZone).toBe('UTC');
    expect(loadConfig({}).scheduleMaxDays).toBe(30);
    expect(loadConfig({ DEFAULT_TIMEZONE: 'europe/berlin', SCHEDULE_MAX_DAYS: '90' })).toMatchObject({
      defaultTimeZone: 'Europe/Berlin',
      scheduleMaxDays: 90,
    });
  });

  it('accepts a 6-field cron expression with seconds', () => {
    expect(loadConfig({ CLEANUP_CRON: '*/30 * * * * *' }).cleanupCron).toBe('*/30 * * * * *');
  });
});

describe('environmentWithDotenv', () => {
  it('reads .env beneath the real environment, which wins', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-env-'));
    writeFileSync(path.join(dir, '.env'), 'PORT=4000\nLOG_LEVEL=debug\n# comment\nAPPROVALS_REQUIRED=2\n');
    const env = environmentWithDotenv({ PORT: '5000' }, dir);
    const config = loadConfig(env, dir);
    expect(config.port).toBe(5000);
    expect(config.logLevel).toBe('debug');
    expect(config.approvalsRequired).toBe(2);
  });

  it('is the environment itself without a .env file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-env-'));
    expect(environmentWithDotenv({ PORT: '1' }, dir)).toEqual({ PORT: '1' });
  });
});
