/**
 * Instagram Login beside Facebook Login: the two ways offered when both apps are configured, the
 * way each account was connected deciding its host, the personal-account refusal, the exchange
 * host, refresh refusals, the health check and verify on graph.instagram.com.
 */
import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import { instagramTokenUrl } from '../../../src/publishers/instagram/login-app.js';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import { addJpeg, META_OPTIONS, newLog, PAGE_TOKEN, publishRequest, REDIRECT_URI, useGraphMock, V } from '../meta/meta-fixtures.js';
import {
  arrangeInstagramLogin,
  IG_ID,
  IG_LOGIN_ACCOUNT,
  IG_LOGIN_OPTIONS,
  IG_LOGIN_TOKENS,
  IG_TOKEN,
  igApi,
  igCallback,
  igContainer,
  igMediaPublish,
  igPermalink,
  igQuery,
  igStatuses,
} from './instagram-login.contract.js';
import { containerStatuses, createContainer, IG_ACCOUNT, IG_TOKENS, permalinkLookup } from './instagram.contract.js';
import { formBody, formPost } from '../meta/meta-fixtures.js';

const both = createInstagramPublisher(META_OPTIONS, IG_LOGIN_OPTIONS);
const FINISHED = { status_code: 'FINISHED', status: 'Finished' };

describe('Instagram with both apps', () => {
  const dir = useGraphMock();

  it('offers both ways, Facebook Login first, and each way has its own consent page', () => {
    expect(both.connectVariants?.map((v) => v.id)).toEqual(['facebook-login', 'instagram-login']);
    expect(both.canRefresh).toBe(true);
    const consent = (variant?: string) => new URL(both.consentUrl({ state: 's', redirectUri: REDIRECT_URI, variant }));
    expect(`${consent('instagram-login').origin}${consent('instagram-login').pathname}`).toBe('https://www.instagram.com/oauth/authorize');
    expect(consent('instagram-login').searchParams.get('scope')).toBe('instagram_business_basic,instagram_business_content_publish');
    expect(`${consent('facebook-login').origin}${consent('facebook-login').pathname}`).toBe('https://www.facebook.com/v26.0/dialog/oauth');
    expect(consent().hostname).toBe('www.facebook.com');
  });

  it('one app alone offers one way (no buttons) and uses it', () => {
    expect(createInstagramPublisher(META_OPTIONS).connectVariants).toBeUndefined();
    expect(createInstagramPublisher(META_OPTIONS).canRefresh).toBe(false);
    const igOnly = createInstagramPublisher(undefined, IG_LOGIN_OPTIONS);
    expect(igOnly.connectVariants).toBeUndefined();
    expect(new URL(igOnly.consentUrl({ state: 's', redirectUri: REDIRECT_URI })).hostname).toBe('www.instagram.com');
  });

  it('connects through Instagram Login when that way was chosen, and remembers it', async () => {
    arrangeInstagramLogin();
    const [account] = await both.finishConnect(igCallback());
    expect(account).toMatchObject({ platformAccountId: IG_ID, handle: 'acme', tokens: { extra: { connectedWith: 'instagram-login' } } });
    expect(account?.platformUserId).toBeUndefined();
  });

  it('publishes an account connected with Instagram Login on graph.instagram.com, and one connected with Facebook Login on graph.facebook.com', async () => {
    const square = await addJpeg(dir.media, dir.workDir, 'square');
    igContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Both ways' }, 'ig-c-1');
    igStatuses('ig-c-1', FINISHED);
    igMediaPublish('ig-c-1').reply(200, { id: 'ig-m-1' });
    igPermalink('ig-m-1', 'https://www.instagram.com/p/IGL/');
    const viaInstagram = await both.publish(
      publishRequest(dir.media, IG_LOGIN_ACCOUNT, { caption: 'Both ways', media: [square] }, newLog(), IG_LOGIN_TOKENS),
    );
    expect(viaInstagram).toEqual({ kind: 'published', platformPostId: 'ig-m-1', permalink: 'https://www.instagram.com/p/IGL/' });

    createContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Both ways' }, 'fb-c-1');
    containerStatuses('fb-c-1', FINISHED);
    formPost()
      .post(`${V}/${IG_ACCOUNT.platformAccountId}/media_publish`, formBody(PAGE_TOKEN, { creation_id: 'fb-c-1' }))
      .reply(200, { id: 'fb-m-1' });
    permalinkLookup('fb-m-1', 'https://www.instagram.com/p/FBL/');
    const viaFacebook = await both.publish(
      publishRequest(dir.media, IG_ACCOUNT, { caption: 'Both ways', media: [square] }, newLog(), IG_TOKENS),
    );
    expect(viaFacebook).toEqual({ kind: 'published', platformPostId: 'fb-m-1', permalink: 'https://www.instagram.com/p/FBL/' });
  });

  it('an account connected a way this install no longer has must be connected again', async () => {
    const square = await addJpeg(dir.media, dir.workDir, 'square');
    const fbOnly = createInstagramPublisher(META_OPTIONS);
    const result = await fbOnly.publish(
      publishRequest(dir.media, IG_LOGIN_ACCOUNT, { caption: 'x', media: [square] }, newLog(), IG_LOGIN_TOKENS),
    );
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'reconnect', message: expect.stringContaining('INSTAGRAM_APP_ID') } });
    await expect(fbOnly.refresh(IG_LOGIN_TOKENS)).rejects.toMatchObject({ permanent: true });
  });
});

describe('Instagram Login', () => {
  useGraphMock();
  const igOnly = createInstagramPublisher(undefined, IG_LOGIN_OPTIONS);

  it('refuses a personal account, naming why', async () => {
    arrangeInstagramLogin({ account_type: 'PERSONAL', username: 'ada_personal' });
    const error = await igOnly.finishConnect(igCallback()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toMatch(/^@ada_personal is a personal Instagram account; .*Business or Creator/);
    expect((error as ConnectError).platformCode).toBe('instagram:personal_account');
  });

  it('refuses a login that did not grant publishing', async () => {
    nock('https://api.instagram.com')
      .post('/oauth/access_token')
      .reply(200, { access_token: 'short', user_id: Number(IG_ID), permissions: ['instagram_business_basic'] });
    await expect(igOnly.finishConnect(igCallback())).rejects.toThrow(/instagram_business_content_publish, which was not granted/);
  });

  it('says what Instagram answered when the code is refused, and when the person declined', async () => {
    nock('https://api.instagram.com')
      .post('/oauth/access_token')
      .reply(400, { error_type: 'OAuthException', code: 400, error_message: 'This authorization code has been used' });
    await expect(igOnly.finishConnect(igCallback())).rejects.toThrow(
      'Instagram refused when IQSP tried to exchange the login code (This authorization code has been used); try connecting again.',
    );
    await expect(
      igOnly.finishConnect({
        ...igCallback(),
        query: { error: 'access_denied', error_reason: 'user_denied', error_description: 'The user denied your request.' },
      }),
    ).rejects.toThrow(/cancelled or refused \(user_denied\)/);
  });

  it('exchanges the code at api.instagram.com, or beside a configured consent page', () => {
    expect(instagramTokenUrl('https://www.instagram.com/oauth/authorize')).toBe('https://api.instagram.com/oauth/access_token');
    expect(instagramTokenUrl('https://api.instagram.com/oauth/authorize')).toBe('https://api.instagram.com/oauth/access_token');
    expect(instagramTokenUrl('http://127.0.0.1:4100/instagram/oauth/authorize')).toBe('http://127.0.0.1:4100/instagram/oauth/access_token');
  });

  it('a refused refresh (expired token, 190) means connecting again; a server error does not', async () => {
    igApi()
      .get('/refresh_access_token')
      .query({ grant_type: 'ig_refresh_token', access_token: IG_TOKEN })
      .reply(400, { error: { message: 'Error validating access token: Session has expired', type: 'OAuthException', code: 190 } });
    const refused = await igOnly.refresh(IG_LOGIN_TOKENS).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TokenRefreshError);
    expect((refused as TokenRefreshError).permanent).toBe(true);
    igApi()
      .get('/refresh_access_token')
      .query({ grant_type: 'ig_refresh_token', access_token: IG_TOKEN })
      .reply(500, { error: { message: 'An unexpected error has occurred.', type: 'OAuthException', code: 2, is_transient: true } });
    expect(((await igOnly.refresh(IG_LOGIN_TOKENS).catch((e: unknown) => e)) as TokenRefreshError).permanent).toBe(false);
  });

  it('checks the authorization with the account itself', async () => {
    igApi()
      .get('/me')
      .query(igQuery(IG_TOKEN, { fields: 'user_id,username' }))
      .reply(200, { user_id: IG_ID, username: 'acme' });
    expect(await igOnly.checkAuthorization(IG_LOGIN_ACCOUNT, IG_LOGIN_TOKENS)).toEqual({ kind: 'ok' });
    igApi()
      .get('/me')
      .query(igQuery(IG_TOKEN, { fields: 'user_id,username' }))
      .reply(400, { error: { message: 'Error validating access token', type: 'OAuthException', code: 190, error_subcode: 460 } });
    expect(await igOnly.checkAuthorization(IG_LOGIN_ACCOUNT, IG_LOGIN_TOKENS)).toMatchObject({ kind: 'refused' });
  });

  it('verifies among the account’s media on graph.instagram.com', async () => {
    const committed = new Date('2026-12-03T10:00:30.500Z');
    igApi()
      .get(`/${IG_ID}/media`)
      .query(
        igQuery(IG_TOKEN, {
          fields: 'id,caption,timestamp,permalink',
          since: String(Math.floor(committed.getTime() / 1000) - 120),
          limit: '100',
        }),
      )
      .reply(200, {
        data: [{ id: '1790', caption: 'Hi', timestamp: '2026-12-03T10:00:40+0000', permalink: 'https://www.instagram.com/p/ABC/' }],
      });
    expect(
      await igOnly.verify!({ account: IG_LOGIN_ACCOUNT, tokens: IG_LOGIN_TOKENS, text: 'Hi', mediaCount: 1, committedAt: committed }),
    ).toEqual({ kind: 'live', platformPostId: '1790', permalink: 'https://www.instagram.com/p/ABC/' });
  });
});
