/** X OAuth quirks: PKCE in the consent URL, scopes checked at connect, rotating refresh, revoke. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, AUTHORIZE, BASIC, SCOPES, xPublisher } from './x-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/x/callback';
const form = { reqheaders: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' } };

useNock();

describe('X consent URL', () => {
  it('carries the PKCE S256 challenge and the exact scopes, space-separated as %20', () => {
    const url = xPublisher().consentUrl({
      state: 's-1',
      redirectUri: REDIRECT,
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    });
    expect(url.startsWith(`${AUTHORIZE}?`)).toBe(true);
    expect(url).toContain('scope=tweet.read%20tweet.write%20users.read%20offline.access%20media.write');
    const params = new URL(url).searchParams;
    expect(params.get('code_challenge')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('redirect_uri')).toBe(REDIRECT);
    expect(xPublisher().usesPkce).toBe(true);
  });

  it('refuses to build a consent URL without a challenge', () => {
    expect(() => xPublisher().consentUrl({ state: 's', redirectUri: REDIRECT })).toThrow(/PKCE/);
  });
});

describe('X connect', () => {
  function arrangeToken(reply: Record<string, unknown>, status = 200): void {
    nock(API, form)
      .post('/2/oauth2/token', { grant_type: 'authorization_code', code: 'c', redirect_uri: REDIRECT, code_verifier: 'v' })
      .reply(status, reply);
  }
  const connect = () => xPublisher().finishConnect({ code: 'c', redirectUri: REDIRECT, codeVerifier: 'v', query: {} });

  it('refuses a token granted without media.write and says to reconnect granting media upload', async () => {
    arrangeToken({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: ACCESS,
      refresh_token: 'r',
      scope: 'tweet.read tweet.write users.read offline.access',
    });
    const error = await connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toBe(
      'X did not grant media upload (media.write); connect the account again and allow IQSP to upload media.',
    );
    expect((error as ConnectError).platformCode).toBe('x:scope:media.write');
  });

  it('refuses a token without offline.access, which would stop working after two hours', async () => {
    arrangeToken({ token_type: 'bearer', expires_in: 7200, access_token: ACCESS, scope: 'tweet.read tweet.write users.read media.write' });
    await expect(connect()).rejects.toThrow(
      'X did not grant offline.access; connect the account again and allow every permission IQSP asks for.',
    );
  });

  it('explains an expired or reused authorization code', async () => {
    arrangeToken({ error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' }, 400);
    const error = await connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toBe(
      'X did not accept the authorization (a code works once and only for 30 seconds); connect the account again.',
    );
    expect((error as ConnectError).platformCode).toBe('x:invalid_request');
  });

  it('needs the PKCE verifier', async () => {
    await expect(xPublisher().finishConnect({ code: 'c', redirectUri: REDIRECT, query: {} })).rejects.toBeInstanceOf(ConnectError);
  });
});

describe('X refresh', () => {
  const tokens = { accessToken: 'old-access', refreshToken: 'old-refresh', scopes: SCOPES, extra: { note: 'kept' } };
  function arrangeRefresh(status: number, reply: Record<string, unknown>, headers: Record<string, string> = {}): void {
    nock(API, form).post('/2/oauth2/token', { grant_type: 'refresh_token', refresh_token: 'old-refresh' }).reply(status, reply, headers);
  }

  it('keeps the old refresh token and scopes when X omits them', async () => {
    arrangeRefresh(200, { token_type: 'bearer', expires_in: 7200, access_token: 'new-access' });
    const fresh = await xPublisher().refresh(tokens);
    expect(fresh.accessToken).toBe('new-access');
    expect(fresh.refreshToken).toBe('old-refresh');
    expect(fresh.scopes).toBe(SCOPES);
    expect(fresh.extra).toEqual({ note: 'kept' });
  });

  it('takes the rotated refresh token when X sends one', async () => {
    arrangeRefresh(200, {
      token_type: 'bearer',
      expires_in: 7200,
      access_token: 'new-access',
      refresh_token: 'new-refresh',
      scope: SCOPES,
    });
    expect((await xPublisher().refresh(tokens)).refreshToken).toBe('new-refresh');
  });

  it.each([
    ['invalid_grant', { error: 'invalid_grant', error_description: 'Refresh token has been revoked' }],
    ['a spent single-use token', { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }],
  ])('is permanent for %s', async (_label, reply) => {
    arrangeRefresh(400, reply);
    const error = await xPublisher()
      .refresh(tokens)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(true);
    expect((error as TokenRefreshError).message).toMatch(
      /^X refused to refresh access \(invalid_(grant|request)\); the account must be connected again\.$/,
    );
  });

  it('is temporary for a server error', async () => {
    arrangeRefresh(503, { title: 'Service Unavailable' });
    const error = await xPublisher()
      .refresh(tokens)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(false);
  });

  it('is temporary for a rate limit, with the wait from x-rate-limit-reset', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 300;
    arrangeRefresh(429, { title: 'Too Many Requests' }, { 'x-rate-limit-reset': String(reset) });
    const error = (await xPublisher()
      .refresh(tokens)
      .catch((e: unknown) => e)) as TokenRefreshError;
    expect(error.permanent).toBe(false);
    expect(error.retryAfterMs).toBeGreaterThan(298_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(301_000);
  });

  it('is temporary when X cannot be reached', async () => {
    nock(API, form).post('/2/oauth2/token').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const error = (await xPublisher()
      .refresh(tokens)
      .catch((e: unknown) => e)) as TokenRefreshError;
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect(error.permanent).toBe(false);
  });

  it('is permanent without a refresh token, asking nothing of X', async () => {
    const error = (await xPublisher()
      .refresh({ accessToken: 'a' })
      .catch((e: unknown) => e)) as TokenRefreshError;
    expect(error.permanent).toBe(true);
  });
});

describe('X revoke', () => {
  it('treats an already-invalid token (400) as revoked', async () => {
    nock(API, form)
      .post('/2/oauth2/revoke', { token: 'r', token_type_hint: 'refresh_token' })
      .reply(400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' })
      .post('/2/oauth2/revoke', { token: 'a', token_type_hint: 'access_token' })
      .reply(200, { revoked: true });
    await expect(
      xPublisher().revoke({ platformAccountId: '1', displayName: 'A' }, { accessToken: 'a', refreshToken: 'r' }),
    ).resolves.toBeUndefined();
  });

  it('fails on a server error so the operator knows access was not revoked', async () => {
    nock(API, form).post('/2/oauth2/revoke', { token: 'a', token_type_hint: 'access_token' }).reply(503, {});
    await expect(xPublisher().revoke({ platformAccountId: '1', displayName: 'A' }, { accessToken: 'a' })).rejects.toThrow(
      'X did not revoke the access token (answer 503); revoke IQSP at x.com/settings/connected_apps.',
    );
  });
});
