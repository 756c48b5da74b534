/** Facebook Login as both Meta publishers use it: refusals at connect, paging, revoke fallback. */
import { describe, expect, it } from 'vitest';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import { networkFailure } from '../../../src/publishers/meta/errors.js';
import { NetworkError } from '../../../src/publishers/http.js';
import { ConnectError, type AccountRef } from '../../../src/publishers/publisher.js';
import {
  APP_ID,
  APP_SECRET,
  arrangeLogin,
  AUTH_CODE,
  callback,
  graph,
  LONG_USER_TOKEN,
  META_OPTIONS,
  REDIRECT_URI,
  useGraphMock,
  USER_ID,
  V,
  withToken,
} from './meta-fixtures.js';

const FB_SCOPES = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'];
const IG_SCOPES = ['instagram_basic', 'instagram_content_publish', 'pages_show_list', 'pages_read_engagement', 'business_management'];
const FB_FIELDS = 'id,name,access_token,picture.type(large),tasks';
const facebook = createFacebookPublisher(META_OPTIONS);
const instagram = createInstagramPublisher(META_OPTIONS);

function pagesAnswer(fields: string, body: Record<string, unknown>, after?: string): void {
  const query = withToken(LONG_USER_TOKEN, { fields, limit: '100', ...(after ? { after } : {}) });
  graph().get(`${V}/me/accounts`).query(query).reply(200, body);
}

async function connectError(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe('Facebook Login (shared by Facebook and Instagram)', () => {
  useGraphMock();

  it('refuses a connect without any granted Page, saying what to do', async () => {
    arrangeLogin(FB_SCOPES);
    pagesAnswer(FB_FIELDS, { data: [] });
    const error = await connectError(facebook.finishConnect(callback()));
    expect(error.message).toBe('No Facebook Page was granted; connect again and select at least one Page you manage.');
    expect(error.platformCode).toBe('meta:no_page');
  });

  it('leaves out Pages the user cannot create content on', async () => {
    arrangeLogin(FB_SCOPES);
    pagesAnswer(FB_FIELDS, { data: [{ id: 'page-1', name: 'Read only', access_token: 'pt', tasks: ['ANALYZE', 'MODERATE'] }] });
    const error = await connectError(facebook.finishConnect(callback()));
    expect(error.message).toBe(
      "You can't create posts on the Facebook Pages you granted; ask a Page admin for content access, then connect again.",
    );
  });

  it('refuses a connect where a needed permission was declined', async () => {
    arrangeLogin(['pages_show_list', 'pages_read_engagement']);
    const error = await connectError(facebook.finishConnect(callback()));
    expect(error.message).toBe(
      'Facebook needs the permission pages_manage_posts, which was not granted; connect again and allow every permission IQSP asks for.',
    );
    expect(error.platformCode).toBe('meta:missing_permission');
  });

  it('reports a refused code exchange in Facebook’s words', async () => {
    graph()
      .get(`${V}/oauth/access_token`)
      .query({ client_id: APP_ID, redirect_uri: REDIRECT_URI, client_secret: APP_SECRET, code: AUTH_CODE })
      .reply(400, {
        error: { message: 'This authorization code has been used.', type: 'OAuthException', code: 100, error_subcode: 36009 },
      });
    const error = await connectError(facebook.finishConnect(callback()));
    expect(error.message).toBe(
      'Facebook refused when IQSP tried to exchange the login code (This authorization code has been used); try connecting again.',
    );
    expect(error.platformCode).toBe('meta:100');
  });

  it('reports a denied consent without calling Facebook', async () => {
    const error = await connectError(
      facebook.finishConnect({
        code: '',
        redirectUri: REDIRECT_URI,
        query: { error: 'access_denied', error_reason: 'user_denied', state: 's' },
      }),
    );
    expect(error.message).toBe('Facebook login was cancelled or refused (user_denied); nothing was connected.');
  });

  it('follows the cursor pages of /me/accounts', async () => {
    arrangeLogin(FB_SCOPES);
    pagesAnswer(FB_FIELDS, {
      data: [{ id: 'page-1', name: 'One', access_token: 'pt-1', tasks: ['CREATE_CONTENT'] }],
      paging: { cursors: { before: 'b1', after: 'cursor-2' }, next: `https://graph.facebook.com/v26.0/me/accounts?after=cursor-2` },
    });
    pagesAnswer(
      FB_FIELDS,
      { data: [{ id: 'page-2', name: 'Two', access_token: 'pt-2' }], paging: { cursors: { before: 'b2', after: 'cursor-3' } } },
      'cursor-2',
    );
    const accounts = await facebook.finishConnect(callback());
    expect(accounts.map((a) => [a.platformAccountId, a.displayName, a.tokens.accessToken])).toEqual([
      ['page-1', 'One', 'pt-1'],
      ['page-2', 'Two', 'pt-2'],
    ]);
  });

  it('Instagram: refuses a connect when no granted Page has a linked professional account', async () => {
    arrangeLogin(IG_SCOPES);
    pagesAnswer('id,name,access_token,instagram_business_account', { data: [{ id: 'page-1', name: 'No IG', access_token: 'pt' }] });
    const error = await connectError(instagram.finishConnect(callback()));
    expect(error.message).toBe(
      'None of the Facebook Pages you granted has an Instagram professional account linked; link one in the Page settings, then connect again.',
    );
    expect(error.platformCode).toBe('meta:no_instagram_account');
  });

  describe('revoke', () => {
    const account: AccountRef = { platformAccountId: 'page-1', platformUserId: USER_ID, displayName: 'Acme' };
    const appToken = `${APP_ID}|${APP_SECRET}`;

    it('falls back to the app token when the stored user token has expired', async () => {
      graph()
        .delete(`${V}/${USER_ID}/permissions`)
        .query(withToken(LONG_USER_TOKEN))
        .reply(400, { error: { message: 'Session has expired', type: 'OAuthException', code: 190, error_subcode: 463 } });
      graph().delete(`${V}/${USER_ID}/permissions`).query(withToken(appToken)).reply(200, { success: true });
      await expect(facebook.revoke(account, { accessToken: 'pt', extra: { userAccessToken: LONG_USER_TOKEN } })).resolves.toBeUndefined();
    });

    it('uses the app token when no user token is stored', async () => {
      graph().delete(`${V}/${USER_ID}/permissions`).query(withToken(appToken)).reply(200, { success: true });
      await expect(instagram.revoke(account, { accessToken: 'pt' })).resolves.toBeUndefined();
    });

    it('has nothing to revoke without the user id, and sends nothing', async () => {
      await expect(facebook.revoke({ platformAccountId: 'page-1', displayName: 'Acme' }, { accessToken: 'pt' })).resolves.toBeUndefined();
    });

    it('throws a readable error when Meta refuses', async () => {
      graph()
        .delete(`${V}/${USER_ID}/permissions`)
        .query(withToken(LONG_USER_TOKEN))
        .reply(400, { error: { message: 'Unsupported delete request.', type: 'GraphMethodException', code: 100 } });
      await expect(facebook.revoke(account, { accessToken: 'pt', extra: { userAccessToken: LONG_USER_TOKEN } })).rejects.toThrow(
        "Facebook did not revoke IQSP's access (Unsupported delete request).",
      );
    });
  });

  it('refresh is not possible: canRefresh is false and refresh fails permanently', async () => {
    expect(facebook.canRefresh).toBe(false);
    expect(instagram.canRefresh).toBe(false);
    await expect(facebook.refresh({ accessToken: 'pt' })).rejects.toMatchObject({ name: 'TokenRefreshError', permanent: true });
  });
});

describe('network failures by stage', () => {
  it('a connection never made is retryable even on the commit; one that may have arrived is unknown', () => {
    const refused = new NetworkError('could not connect to graph.facebook.com (ECONNREFUSED)', false, false);
    const timedOut = new NetworkError('graph.facebook.com did not answer in time', true, true);
    expect(networkFailure('Facebook', refused, 'commit')).toMatchObject({ class: 'retryable', platformCode: 'network' });
    expect(networkFailure('Facebook', timedOut, 'prepare')).toEqual({
      class: 'retryable',
      message: 'IQSP could not reach Facebook (graph.facebook.com did not answer in time); nothing was posted and it will be tried again.',
      platformCode: 'network',
    });
    expect(networkFailure('Facebook', timedOut, 'commit')).toEqual({
      class: 'unknown',
      message:
        'Facebook may have published this post, but its answer never came (graph.facebook.com did not answer in time); look at Facebook before posting again.',
      platformCode: 'network',
    });
  });
});
