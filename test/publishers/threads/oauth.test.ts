/** Threads OAuth at the request level: the consent, the `#_` code, and the renewal rules of a token that refreshes itself. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { renewAt, MIN_REFRESH_AGE_MS, RENEW_BEFORE_EXPIRY_MS, cleanCode } from '../../../src/publishers/threads/oauth.js';
import { useNock } from '../../helpers/nock.js';
import { APP_ID, APP_SECRET, graphError, ORIGIN, threadsPublisher } from './threads-fixtures.js';

useNock();
const DAY = 86_400_000;
const publisher = threadsPublisher();

function arrangeRefresh(token: string, status: number, body: unknown): void {
  nock(ORIGIN)
    .get('/refresh_access_token')
    .query({ grant_type: 'th_refresh_token', access_token: token })
    .reply(status, body as nock.Body);
}

describe('Threads OAuth', () => {
  it('asks for a comma list of scopes, without PKCE', () => {
    const url = new URL(publisher.consentUrl({ state: 's', redirectUri: 'https://iqsp.test/oauth/threads/callback' }));
    expect(url.searchParams.get('scope')).toBe('threads_basic,threads_content_publish,threads_manage_replies');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(publisher.usesPkce).toBe(false);
  });

  it('strips the `#_` Threads appends to the code, and only that', () => {
    expect(cleanCode('AQBx#_')).toBe('AQBx');
    expect(cleanCode('AQBx')).toBe('AQBx');
    expect(cleanCode('AQ#_Bx')).toBe('AQ#_Bx');
  });

  it('a refused code exchange is a ConnectError naming Threads', async () => {
    nock(ORIGIN)
      .post('/oauth/access_token', {
        client_id: APP_ID,
        client_secret: APP_SECRET,
        code: 'bad',
        grant_type: 'authorization_code',
        redirect_uri: 'https://r',
      })
      .reply(400, graphError(100, 'Error validating verification code', { error_subcode: 36008 }));
    const error = await publisher.finishConnect({ code: 'bad', redirectUri: 'https://r', query: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toMatch(/^Threads refused when IQSP tried to exchange the authorization code/);
    expect((error as ConnectError).platformCode).toBe('threads:100');
  });

  it('renews a 60-day token after 30 days, never before it is 24 hours old', () => {
    const issued = Date.parse('2026-09-01T00:00:00Z');
    expect(renewAt(issued, issued + 60 * DAY)).toBe(issued + 60 * DAY - RENEW_BEFORE_EXPIRY_MS);
    // A 2-day token: renewed just after its first 24 hours.
    const twoDays = renewAt(issued, issued + 2 * DAY);
    expect(twoDays).toBeGreaterThan(issued + MIN_REFRESH_AGE_MS + 5 * 60_000);
    expect(twoDays).toBeLessThan(issued + 2 * DAY);
    // A token that dies within a day cannot be renewed: used until it dies.
    expect(renewAt(issued, issued + 3600_000)).toBe(issued + 3600_000);
  });

  it('an expired token is refused for good without asking', async () => {
    const error = await publisher
      .refresh({ accessToken: 'T', refreshToken: 'T', refreshExpiresAt: new Date(Date.now() - 1000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(true);
  });

  it('190 on renewal: refused for good', async () => {
    arrangeRefresh(
      'T',
      400,
      graphError(190, 'Error validating access token: The user has not authorized application 1.', { error_subcode: 458 }),
    );
    const error = await publisher
      .refresh({ accessToken: 'T', refreshToken: 'T', refreshExpiresAt: new Date(Date.now() + 20 * DAY) })
      .catch((e: unknown) => e);
    expect((error as TokenRefreshError).permanent).toBe(true);
  });

  it('another refusal while the token works keeps it and tries again in an hour', async () => {
    const dies = new Date(Date.now() + 20 * DAY);
    arrangeRefresh('T', 400, graphError(100, '(#100) The access token must be at least 24 hours old to be refreshed'));
    const kept = await publisher.refresh({ accessToken: 'T', refreshToken: 'T', refreshExpiresAt: dies });
    expect(kept.accessToken).toBe('T');
    expect(kept.refreshExpiresAt).toEqual(dies);
    expect(kept.expiresAt!.getTime() - Date.now()).toBeGreaterThan(3590_000);
    expect(kept.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it('in its last day, a renewal that fails is said (and retried), not kept quiet', async () => {
    arrangeRefresh('T', 500, graphError(2, 'Service temporarily unavailable', { is_transient: true }));
    const error = await publisher
      .refresh({ accessToken: 'T', refreshToken: 'T', refreshExpiresAt: new Date(Date.now() + 3600_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(false);
  });

  it('revoking sends nothing: Threads has no revocation endpoint', async () => {
    await expect(publisher.revoke({ platformAccountId: '1', displayName: 'a' }, { accessToken: 'T' })).resolves.toBeUndefined();
  });
});
