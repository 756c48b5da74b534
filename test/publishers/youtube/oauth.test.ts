/** Google OAuth as YouTube uses it: refused consents, missing scopes, no channel, refresh and revoke edge cases. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, CLIENT, FORM_HEADERS, REDIRECT, REFRESH, SCOPE, TOKEN_HOST, arrangeChannel, createPublisher, exactly } from './helpers.js';

useNock();

const finish = (query: Record<string, string>) =>
  createPublisher().finishConnect({ code: '4/0Acode', redirectUri: REDIRECT, codeVerifier: 'v', query: { code: '4/0Acode', ...query } });

function arrangeExchange(body: Record<string, unknown>, status = 200): void {
  nock(TOKEN_HOST, { reqheaders: FORM_HEADERS })
    .post('/token', exactly({ code: '4/0Acode', ...CLIENT, redirect_uri: REDIRECT, grant_type: 'authorization_code', code_verifier: 'v' }))
    .reply(status, body);
}

describe('YouTube OAuth', () => {
  it('refuses to build a consent URL without PKCE', () => {
    expect(() => createPublisher().consentUrl({ state: 's', redirectUri: REDIRECT })).toThrow(/PKCE/);
  });

  it('says so when the consent was denied', async () => {
    await expect(finish({ error: 'access_denied' })).rejects.toThrow(
      'Google did not connect the YouTube channel because the consent was cancelled; try again and allow access.',
    );
  });

  it('refuses a grant without the upload scope, from the callback before any exchange', async () => {
    const error = await finish({ scope: 'https://www.googleapis.com/auth/youtube.readonly' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toBe(
      'Google did not grant the permission youtube.upload (upload videos); connect again and keep every permission ticked.',
    );
  });

  it('refuses a token answer whose scope lacks readonly', async () => {
    arrangeExchange({
      access_token: ACCESS,
      expires_in: 3599,
      refresh_token: REFRESH,
      scope: 'https://www.googleapis.com/auth/youtube.upload',
    });
    await expect(finish({})).rejects.toThrow(/youtube\.readonly \(see the channel and its videos\)/);
  });

  it('accepts the full youtube scope, which covers both', async () => {
    arrangeExchange({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: 'https://www.googleapis.com/auth/youtube' });
    arrangeChannel();
    expect((await finish({}))[0]?.platformAccountId).toBe('UCacmeChannel00000000001');
  });

  it('says the Google account has no YouTube channel when channels.list has no item', async () => {
    arrangeExchange({ access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: SCOPE });
    arrangeChannel({ kind: 'youtube#channelListResponse', pageInfo: { totalResults: 0, resultsPerPage: 5 }, items: [] });
    const error = await finish({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).platformCode).toBe('youtube:no_channel');
    expect((error as ConnectError).message).toMatch(/^The Google account has no YouTube channel/);
  });

  it('refuses a code Google does not accept, naming its error and never a token', async () => {
    arrangeExchange({ error: 'invalid_grant', error_description: 'Bad Request' }, 400);
    await expect(finish({})).rejects.toThrow('Google refused the sign-in code (invalid_grant: Bad Request); try connecting again.');
  });

  it('refresh: invalid_grant is permanent; invalid_client is not', async () => {
    nock(TOKEN_HOST).post('/token').reply(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const dead = await createPublisher()
      .refresh({ accessToken: 'a', refreshToken: REFRESH })
      .catch((e: unknown) => e);
    expect(dead).toBeInstanceOf(TokenRefreshError);
    expect((dead as TokenRefreshError).permanent).toBe(true);
    nock(TOKEN_HOST).post('/token').reply(401, { error: 'invalid_client', error_description: 'Unauthorized' });
    const config = await createPublisher()
      .refresh({ accessToken: 'a', refreshToken: REFRESH })
      .catch((e: unknown) => e);
    expect((config as TokenRefreshError).permanent).toBe(false);
  });

  it('refresh keeps a new refresh token when Google does send one', async () => {
    nock(TOKEN_HOST).post('/token').reply(200, { access_token: 'ya29.n', expires_in: 3599, refresh_token: '1//new', scope: SCOPE });
    expect((await createPublisher().refresh({ accessToken: 'a', refreshToken: REFRESH })).refreshToken).toBe('1//new');
  });

  it('revoke: an already dead token is fine; another error is thrown', async () => {
    nock(TOKEN_HOST).post('/revoke').reply(400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    await expect(
      createPublisher().revoke({ platformAccountId: 'c', displayName: 'C' }, { accessToken: ACCESS, refreshToken: REFRESH }),
    ).resolves.toBeUndefined();
    nock(TOKEN_HOST).post('/revoke').reply(503, 'unavailable');
    await expect(createPublisher().revoke({ platformAccountId: 'c', displayName: 'C' }, { accessToken: ACCESS })).rejects.toThrow(
      'Google did not revoke YouTube access (HTTP 503).',
    );
  });

  it('checks an authorization by channels.list: ok, refused without the channel, unknown on a 5xx', async () => {
    const account = { platformAccountId: 'UCacmeChannel00000000001', displayName: 'Acme Inc' };
    const publisher = createPublisher();
    arrangeChannel();
    expect(await publisher.checkAuthorization(account, { accessToken: ACCESS })).toEqual({ kind: 'ok' });
    arrangeChannel({ error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError', domain: 'global' }] } }, 401);
    expect(await publisher.checkAuthorization(account, { accessToken: ACCESS })).toMatchObject({ kind: 'refused' });
    arrangeChannel({ kind: 'youtube#channelListResponse', items: [] });
    expect(await publisher.checkAuthorization(account, { accessToken: ACCESS })).toMatchObject({ kind: 'refused' });
    arrangeChannel({ error: { code: 503, message: 'Backend Error', errors: [{ reason: 'backendError', domain: 'global' }] } }, 503);
    expect(await publisher.checkAuthorization(account, { accessToken: ACCESS })).toMatchObject({ kind: 'unknown' });
  });
});
