/** Login Kit quirks: unticked scopes, denied consent, rotating refresh tokens and refresh failures. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import type { TokenSet } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, CLIENT, FORM_HEADERS, REDIRECT, SCOPE, createPublisher, exactly, ok, socketError } from './helpers.js';

useNock();

const tokenAnswer = (overrides: Record<string, unknown> = {}) => ({
  access_token: ACCESS,
  expires_in: 7200,
  open_id: 'open-1',
  refresh_token: 'rft.1',
  refresh_expires_in: 15_552_000,
  scope: SCOPE,
  token_type: 'Bearer',
  ...overrides,
});

function arrangeCodeExchange(reply: Record<string, unknown>, status = 200): void {
  nock(API, { reqheaders: FORM_HEADERS })
    .post('/v2/oauth/token/', exactly({ ...CLIENT, code: 'code-1', grant_type: 'authorization_code', redirect_uri: REDIRECT }))
    .reply(status, reply);
}

async function connectError(query: Record<string, string>): Promise<ConnectError> {
  const error = await createPublisher()
    .finishConnect({ code: 'code-1', redirectUri: REDIRECT, query })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe('TikTok connect', () => {
  it('refuses an account whose callback shows an unticked scope, before exchanging the code', async () => {
    const error = await connectError({ code: 'code-1', state: 's', scopes: 'user.info.basic,user.info.profile' });
    expect(error.message).toBe(
      'TikTok did not grant the permission video.publish (post to the account); connect again and keep every permission ticked.',
    );
    expect(error.platformCode).toBe('tiktok:missing_scope');
  });

  it('refuses an account whose token answer lacks a scope, naming every missing permission', async () => {
    arrangeCodeExchange(tokenAnswer({ scope: 'user.info.basic' }));
    const error = await connectError({ code: 'code-1', state: 's' });
    expect(error.message).toBe(
      'TikTok did not grant the permissions user.info.profile (read the username), video.publish (post to the account); connect again and keep every permission ticked.',
    );
  });

  it('says so when the person cancelled the consent', async () => {
    const error = await connectError({ error: 'access_denied', error_description: 'User cancelled', state: 's' });
    expect(error.message).toBe('TikTok did not connect the account because the consent was cancelled; try again and allow access.');
  });

  it("reports TikTok's reason when the code is refused, without any secret", async () => {
    arrangeCodeExchange({ error: 'invalid_grant', error_description: 'Authorization code is expired.', log_id: 'L1' }, 400);
    const error = await connectError({ code: 'code-1', state: 's', scopes: SCOPE });
    expect(error.message).toBe('TikTok refused the sign-in code (invalid_grant: Authorization code is expired.); try connecting again.');
    expect(error.message).not.toContain('code-1');
    expect(error.message).not.toContain(CLIENT.client_secret);
  });

  it('fails clearly when the profile cannot be read', async () => {
    arrangeCodeExchange(tokenAnswer());
    nock(API)
      .get('/v2/user/info/')
      .query(true)
      .reply(401, { data: {}, error: { code: 'scope_not_authorized', message: 'no scope', log_id: 'L' } });
    const error = await connectError({ code: 'code-1', state: 's', scopes: SCOPE });
    expect(error.message).toBe("TikTok did not return the account's profile (scope_not_authorized); try connecting again.");
  });

  it('uses the username as display name when TikTok gives no display name', async () => {
    arrangeCodeExchange(tokenAnswer());
    nock(API)
      .get('/v2/user/info/')
      .query(true)
      .reply(200, ok({ user: { open_id: 'open-1', username: 'acme' } }));
    const [account] = await createPublisher().finishConnect({ code: 'code-1', redirectUri: REDIRECT, query: { scopes: SCOPE } });
    expect(account).toMatchObject({ platformAccountId: 'open-1', handle: 'acme', displayName: 'acme', avatarUrl: undefined });
  });
});

describe('TikTok refresh', () => {
  const stored: TokenSet = { accessToken: 'act.0', refreshToken: 'rft.0', scopes: 'user.info.basic user.info.profile video.publish' };

  function arrangeRefresh(
    refreshToken: string,
    status: number,
    reply: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    nock(API, { reqheaders: FORM_HEADERS })
      .post('/v2/oauth/token/', exactly({ ...CLIENT, grant_type: 'refresh_token', refresh_token: refreshToken }))
      .reply(status, reply, headers);
  }

  it('rotates: each refresh sends the newest refresh token and returns the next one', async () => {
    const publisher = createPublisher();
    arrangeRefresh('rft.0', 200, tokenAnswer({ access_token: 'act.1', refresh_token: 'rft.1' }));
    arrangeRefresh('rft.1', 200, tokenAnswer({ access_token: 'act.2', refresh_token: 'rft.2' }));
    const first = await publisher.refresh(stored);
    const second = await publisher.refresh(first);
    expect([first.accessToken, first.refreshToken]).toEqual(['act.1', 'rft.1']);
    expect([second.accessToken, second.refreshToken]).toEqual(['act.2', 'rft.2']);
    expect(second.scopes).toBe('user.info.basic user.info.profile video.publish');
  });

  it('keeps the stored refresh token (and its expiry) when an answer has none', async () => {
    const refreshExpiresAt = new Date('2027-01-01T00:00:00Z');
    arrangeRefresh('rft.0', 200, { access_token: 'act.1', expires_in: 7200, open_id: 'open-1', token_type: 'Bearer' });
    const fresh = await createPublisher().refresh({ ...stored, refreshExpiresAt });
    expect(fresh).toMatchObject({ accessToken: 'act.1', refreshToken: 'rft.0', refreshExpiresAt, scopes: stored.scopes });
  });

  async function refreshError(): Promise<TokenRefreshError> {
    const error = await createPublisher()
      .refresh(stored)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TokenRefreshError);
    return error as TokenRefreshError;
  }

  it('is permanent on invalid_grant (the refresh token is dead)', async () => {
    arrangeRefresh('rft.0', 400, { error: 'invalid_grant', error_description: 'Refresh token is invalid or expired.', log_id: 'L' });
    const error = await refreshError();
    expect(error.permanent).toBe(true);
    expect(error.message).toBe(
      'TikTok did not renew access (invalid_grant: Refresh token is invalid or expired.); connect the account again.',
    );
  });

  it('is temporary on a 5xx, on 429 (with Retry-After), on invalid_client, and without an answer', async () => {
    arrangeRefresh('rft.0', 503, {});
    expect((await refreshError()).permanent).toBe(false);

    arrangeRefresh('rft.0', 429, { error: 'rate_limit_exceeded' }, { 'Retry-After': '12' });
    const limited = await refreshError();
    expect([limited.permanent, limited.retryAfterMs]).toEqual([false, 12_000]);

    arrangeRefresh('rft.0', 401, { error: 'invalid_client', error_description: 'Client key or secret is incorrect.' });
    expect((await refreshError()).permanent).toBe(false);

    nock(API).post('/v2/oauth/token/').replyWithError(socketError('ECONNRESET'));
    const network = await refreshError();
    expect(network.permanent).toBe(false);
    expect(network.message).not.toContain('rft.0');
  });

  it('is permanent when there is no refresh token to use', async () => {
    const error = await createPublisher()
      .refresh({ accessToken: 'act.0' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(true);
  });
});

describe('TikTok revoke', () => {
  it('throws with the reason when TikTok does not revoke', async () => {
    nock(API, { reqheaders: FORM_HEADERS })
      .post('/v2/oauth/revoke/', exactly({ ...CLIENT, token: ACCESS }))
      .reply(400, { error: 'invalid_request', error_description: 'token is missing', log_id: 'L' });
    await expect(createPublisher().revoke({ platformAccountId: 'open-1', displayName: 'Acme' }, { accessToken: ACCESS })).rejects.toThrow(
      'TikTok did not revoke access (invalid_request).',
    );
  });
});
