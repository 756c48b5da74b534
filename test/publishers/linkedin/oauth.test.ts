/** LinkedIn's connect and refresh edges: what the granted scopes allow, refusals, refresh failures (nock). */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, CLIENT_ID, CLIENT_SECRET, linkedinPublisher, PERSON, rest, SUB, WWW } from './linkedin-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/linkedin/callback';
useNock();

function arrangeToken(scope: string, status = 200): void {
  nock(WWW)
    .post('/oauth/v2/accessToken', {
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: REDIRECT,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    })
    .reply(
      status,
      status === 200
        ? { access_token: ACCESS, expires_in: 5_184_000, scope }
        : { error: 'invalid_request', error_description: 'authorization code not found' },
    );
}
function arrangeMember(): void {
  nock(API).get('/v2/userinfo').reply(200, { sub: SUB, given_name: 'Ada', family_name: 'Okafor' });
}
const connect = () => linkedinPublisher().finishConnect({ code: 'c', redirectUri: REDIRECT, query: {} });

describe('LinkedIn connect', () => {
  it('connects only the member when the Community Management scopes were not granted', async () => {
    arrangeToken('openid,profile,w_member_social');
    arrangeMember();
    const accounts = await connect();
    expect(accounts.map((a) => [a.platformAccountId, a.displayName])).toEqual([[PERSON, 'Ada Okafor']]);
    expect(accounts[0]!.tokens.scopes).toBe('openid profile w_member_social');
  });

  it('connects only Pages when posting as the member was not granted', async () => {
    arrangeToken('openid,profile,w_organization_social,r_organization_social,rw_organization_admin');
    arrangeMember();
    rest()
      .get('/rest/organizationAcls')
      .query(true)
      .reply(200, { elements: [{ role: 'DIRECT_SPONSORED_CONTENT_POSTER', organization: 'urn:li:organization:9' }] });
    rest().get('/rest/organizations/9').reply(200, { id: 9, localizedName: 'Nine' });
    const accounts = await connect();
    expect(accounts.map((a) => [a.platformAccountId, a.displayName, a.platformUserId])).toEqual([['urn:li:organization:9', 'Nine', SUB]]);
  });

  it('refuses a grant that allows no posting, or no sign-in, with a sentence', async () => {
    arrangeToken('openid,profile');
    await expect(connect()).rejects.toMatchObject({ platformCode: 'linkedin:scope:w_member_social' });
    arrangeToken('w_member_social');
    await expect(connect()).rejects.toMatchObject({ platformCode: 'linkedin:scope:openid' });
  });

  it('says when a Pages-only grant finds no Page the person may post to', async () => {
    arrangeToken('openid,profile,w_organization_social,rw_organization_admin');
    arrangeMember();
    rest()
      .get('/rest/organizationAcls')
      .query(true)
      .reply(200, { elements: [{ role: 'ANALYST', organization: 'urn:li:organization:9' }] });
    await expect(connect()).rejects.toThrow(
      new ConnectError(
        'Ada Okafor administers no LinkedIn Page with a role that may post, and LinkedIn did not grant posting as a member; ask for a Page admin or content admin role, then connect again.',
        'linkedin:no-pages',
      ),
    );
  });

  it('names LINKEDIN_API_VERSION when the Page read meets a sunset version', async () => {
    arrangeToken('openid,profile,w_member_social,w_organization_social,rw_organization_admin');
    arrangeMember();
    rest()
      .get('/rest/organizationAcls')
      .query(true)
      .reply(426, { status: 426, code: 'NONEXISTENT_VERSION', message: 'Requested version 20260701 is not active' });
    await expect(connect()).rejects.toMatchObject({
      platformCode: 'linkedin:426',
      message: expect.stringContaining('LINKEDIN_API_VERSION'),
    });
  });

  it('says a spent code must be connected again', async () => {
    arrangeToken('', 400);
    await expect(connect()).rejects.toMatchObject({ platformCode: 'linkedin:invalid_request' });
  });
});

describe('LinkedIn refresh', () => {
  const tokens = { accessToken: 'a', refreshToken: 'r' };
  const arrange = (status: number, body: unknown) =>
    nock(WWW)
      .post('/oauth/v2/accessToken', {
        grant_type: 'refresh_token',
        refresh_token: 'r',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      })
      .reply(status, body as nock.Body);

  it('is permanent when the refresh token is spent or expired (365 days after the first consent)', async () => {
    arrange(400, { error: 'invalid_request', error_description: 'The provided refresh token is invalid or expired' });
    await expect(linkedinPublisher().refresh(tokens)).rejects.toMatchObject({ permanent: true });
  });

  it('keeps the account when IQSP’s client credentials are refused (the operator’s to fix) or LinkedIn fails', async () => {
    arrange(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    await expect(linkedinPublisher().refresh(tokens)).rejects.toEqual(
      new TokenRefreshError(
        "LinkedIn did not accept IQSP's client credentials (invalid_client); check LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET.",
        false,
      ),
    );
    arrange(503, '');
    await expect(linkedinPublisher().refresh(tokens)).rejects.toMatchObject({ permanent: false });
    arrange(429, '');
    await expect(linkedinPublisher().refresh(tokens)).rejects.toMatchObject({ permanent: false, retryAfterMs: expect.any(Number) });
  });
});
