/**
 * The Bluesky publisher against its simulator with the real OAuth library: connect (PAR, DPoP
 * nonces, PKCE, the issuer and DID checks), refresh with rotation, publish every kind, threads,
 * facets, verify, errors, revoke.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GrantedAccount, PublishRequest } from '../../../src/publishers/publisher.js';
import { addImage, addVideoBytes, useMediaDir } from '../../helpers/media.js';
import { mp4Header } from '../../helpers/mp4.js';
import { publishRequest } from '../../helpers/publish-request.js';
import { blueskyWorld, connect, type BlueskyWorld } from './bluesky-world.js';

const ALICE = 'did:plc:iqspalicesim2bluesky4abc';
const BOB = 'did:plc:iqspbobsim234bluesky5xyz';

describe('Bluesky against its simulator', () => {
  const dir = useMediaDir('iqsp-bsky-');
  let world: BlueskyWorld | undefined;
  afterEach(async () => world?.close());

  function request(account: GrantedAccount, caption: string, extra: Partial<PublishRequest> = {}): PublishRequest {
    return { ...publishRequest({ account, tokens: account.tokens, draft: { caption }, media: dir.media }), ...extra };
  }

  for (const publicUrl of ['http://127.0.0.1:3999', 'https://iqsp.example']) {
    it(`connects and publishes a post (${publicUrl.startsWith('https') ? 'confidential client' : 'loopback client'})`, async () => {
      world = await blueskyWorld({ publicUrl });
      const account = await connect(world);
      expect(account).toMatchObject({ platformAccountId: ALICE, handle: 'alice-iqsp.bsky.social', displayName: 'Alice (IQSP)' });
      expect(account.tokens.scopes).toBe('atproto transition:generic');
      const result = await world.publisher.publish(request(account, 'Hello https://example.com'));
      expect(result.kind).toBe('published');
      expect(world.sim.published).toHaveLength(1);
      expect(world.sim.auth.sessions[0]?.clientId).toEqual(
        publicUrl.startsWith('https') ? `${publicUrl}/oauth/bluesky/client-metadata.json` : expect.stringMatching(/^http:\/\/localhost\?/),
      );
    });
  }

  it('serves client metadata and a JWKS whose key signs the assertions, the same from every instance', async () => {
    world = await blueskyWorld({ publicUrl: 'https://iqsp.example' });
    const docs = world.publisher.documents?.() ?? {};
    expect(docs['client-metadata.json']).toMatchObject({
      client_id: 'https://iqsp.example/oauth/bluesky/client-metadata.json',
      redirect_uris: ['https://iqsp.example/oauth/bluesky/callback'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      dpop_bound_access_tokens: true,
      scope: 'atproto transition:generic',
      jwks_uri: 'https://iqsp.example/oauth/bluesky/jwks.json',
    });
    const jwks = docs['jwks.json'] as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const again = await blueskyWorld({ publicUrl: 'https://iqsp.example' });
    expect(again.publisher.documents?.()['jwks.json']).toEqual(jwks);
    await again.close();
  });

  it('has no public documents as a loopback client', async () => {
    world = await blueskyWorld();
    expect(world.publisher.documents?.()).toEqual({});
  });

  it('an install at http://localhost (the default PUBLIC_URL) starts, and says to use 127.0.0.1 when someone connects', async () => {
    world = await blueskyWorld({ publicUrl: 'http://localhost:3000' });
    expect(world.publisher.documents?.()).toEqual({});
    await expect(world.publisher.startConsent!({ state: 's', redirectUri: 'unused' })).rejects.toMatchObject({
      name: 'ConnectError',
      message: expect.stringContaining('PUBLIC_URL=http://127.0.0.1:<port>') as string,
    });
    expect(world.sim.requests).toHaveLength(0);
  });

  it('lets the person pick their account at the server, and a denial connects nothing', async () => {
    world = await blueskyWorld();
    expect((await connect(world, BOB)).platformAccountId).toBe(BOB);
    const started = await world.publisher.startConsent!({ state: 's', redirectUri: 'unused' });
    const denied = new URL(await world.sim.denyConsent(started.url));
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe(started.state);
  });

  it('refuses a callback whose issuer is not the one the sign-in started with', async () => {
    world = await blueskyWorld();
    const started = await world.publisher.startConsent!({ state: 's', redirectUri: 'unused' });
    const callback = new URL(await world.sim.approveConsent(started.url));
    callback.searchParams.set('iss', 'https://evil.example');
    await expect(
      world.publisher.finishConnect({
        code: 'x',
        redirectUri: 'u',
        query: Object.fromEntries(callback.searchParams),
        roundTripSecret: started.secret,
      }),
    ).rejects.toThrow(/Issuer mismatch/);
  });

  it('refreshes with a rotating single-use refresh token; the spent one is refused for good', async () => {
    world = await blueskyWorld({ publicUrl: 'https://iqsp.example' });
    const account = await connect(world);
    const fresh = await world.publisher.refresh(account.tokens);
    expect(fresh.refreshToken).not.toBe(account.tokens.refreshToken);
    expect(fresh.accessToken).not.toBe(account.tokens.accessToken);
    expect(fresh.extra).toEqual(account.tokens.extra);
    // The new pair works.
    expect((await world.publisher.publish(request({ ...account, tokens: fresh }, 'after refresh'))).kind).toBe('published');
    // Spending the old refresh token again is a replay: refused, only a new consent helps.
    await expect(world.publisher.refresh(account.tokens)).rejects.toMatchObject({ name: 'TokenRefreshError', permanent: true });
  });

  it('an expired access token asks core to refresh (reconnect, tokenExpired), never refreshing inside publish', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    world.sim.auth.expireAccessTokens();
    const result = await world.publisher.publish(request(account, 'expired'));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'reconnect', tokenExpired: true } });
    expect(world.sim.published).toHaveLength(0);
    // The refresh token was not spent by the library: core's refresh still works.
    const fresh = await world.publisher.refresh(account.tokens);
    expect((await world.publisher.publish(request({ ...account, tokens: fresh }, 'expired'))).kind).toBe('published');
  });

  it('publishes four images with aspect ratios, links and resolved mentions as byte-offset facets', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    const images = await Promise.all(
      [1, 2, 3, 4].map((i) => addImage(dir, { id: `img${i}`, format: 'png', width: 40 * i, height: 30, background: '#336699' })),
    );
    const caption = 'Café ☕ with @bob-iqsp.bsky.social and @nobody.example.com → https://example.com/a?b=1.';
    const result = await world.publisher.publish({ ...request(account, caption), draft: { caption, media: images, options: {} } });
    expect(result.kind).toBe('published');
    const record = world.sim.published[0]?.record as Record<string, unknown>;
    const embed = record.embed as { $type: string; images: Array<{ aspectRatio: unknown; alt: string }> };
    expect(embed.$type).toBe('app.bsky.embed.images');
    expect(embed.images.map((i) => i.aspectRatio)).toEqual([1, 2, 3, 4].map((i) => ({ width: 40 * i, height: 30 })));
    const bytes = Buffer.from(caption, 'utf8');
    const facets = record.facets as Array<{ index: { byteStart: number; byteEnd: number }; features: Array<Record<string, string>> }>;
    expect(facets.map((f) => [bytes.subarray(f.index.byteStart, f.index.byteEnd).toString('utf8'), f.features[0]])).toEqual([
      ['@bob-iqsp.bsky.social', { $type: 'app.bsky.richtext.facet#mention', did: BOB }],
      ['https://example.com/a?b=1', { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/a?b=1' }],
    ]);
  });

  it('publishes a video through the video service (service auth, streamed upload, job status)', async () => {
    world = await blueskyWorld({ sim: { videoPolls: 3 } });
    const account = await connect(world);
    const video = await addVideoBytes(
      dir,
      'v1',
      Buffer.concat([mp4Header({ durationMs: 5000, width: 720, height: 1280 }), Buffer.alloc(300_000, 7)]),
      {
        width: 720,
        height: 1280,
      },
    );
    const progress: string[] = [];
    const result = await world.publisher.publish({
      ...request(account, 'A video'),
      draft: { caption: 'A video', media: [video], options: {} },
      onProgress: (p) => progress.push(p.phase),
    });
    expect(result.kind).toBe('published');
    expect(world.sim.published[0]?.record.embed).toMatchObject({
      $type: 'app.bsky.embed.video',
      aspectRatio: { width: 720, height: 1280 },
    });
    expect(progress).toEqual(expect.arrayContaining(['uploading', 'processing', 'publishing']));
    expect(world.sim.requests.filter((r) => r.path === '/xrpc/app.bsky.video.getJobStatus')).toHaveLength(3);
  });

  it('a video the account may not upload (canUpload false) is a content failure; nothing is posted', async () => {
    world = await blueskyWorld();
    const account = await connect(world, BOB);
    const video = await addVideoBytes(
      dir,
      'v1',
      Buffer.concat([mp4Header({ durationMs: 5000, width: 720, height: 1280 }), Buffer.alloc(1000)]),
      {},
    );
    const result = await world.publisher.publish({ ...request(account, 'v'), draft: { caption: 'v', media: [video], options: {} } });
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'bluesky:canUpload' } });
    expect(result.kind === 'failed' && result.failure.message).toMatch(/verify your email/);
  });

  it('a video the service cannot validate is a content failure', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    const video = await addVideoBytes(dir, 'v1', Buffer.alloc(5000, 1), {});
    const result = await world.publisher.publish({ ...request(account, 'v'), draft: { caption: 'v', media: [video], options: {} } });
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'bluesky:validation_failure' } });
  });

  it('publishes a --- thread as a reply chain, each part recorded live, and resumes after the live parts', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    const live: string[] = [];
    const refs: string[] = [];
    world.sim.faults.push({
      match: (m, p) => m === 'POST' && p === '/xrpc/com.atproto.repo.createRecord',
      times: 1,
      kind: 'status',
      status: 400,
    });
    const caption = 'one\n---\ntwo\n---\nthree';
    const onPartLive = (_i: number, id: string): Promise<void> => {
      live.push(id);
      return Promise.resolve();
    };
    const onPlatformRef = (ref: string): Promise<void> => {
      refs.push(ref);
      return Promise.resolve();
    };
    // The first part is refused: nothing live.
    expect((await world.publisher.publish(request(account, caption, { onPartLive, onPlatformRef }))).kind).toBe('failed');
    // Part 3 fails the next time, after parts 1 and 2.
    world.sim.faults.push({
      match: (m, p) => m === 'POST' && p === '/xrpc/com.atproto.repo.createRecord',
      times: 1,
      kind: 'status',
      status: 503,
    });
    const first = await world.publisher.publish(request(account, caption, { onPartLive, onPlatformRef }));
    // The fault applies to the first createRecord of this run: part 1 is unknown (5xx at commit).
    expect(first).toMatchObject({ kind: 'failed', failure: { class: 'unknown' } });
    const resumed = await world.publisher.publish(request(account, caption, { onPartLive, onPlatformRef, liveParts: [] }));
    expect(resumed.kind).toBe('published');
    expect(world.sim.published.map((p) => p.text)).toEqual(['one', 'two', 'three']);
    const [one, two, three] = world.sim.published;
    expect(two?.record.reply).toEqual({ root: { uri: one?.uri, cid: one?.cid }, parent: { uri: one?.uri, cid: one?.cid } });
    expect(three?.record.reply).toEqual({ root: { uri: one?.uri, cid: one?.cid }, parent: { uri: two?.uri, cid: two?.cid } });
    // Resume after two live parts: only the third is sent.
    const again = await world.publisher.publish(
      request(account, 'one\n---\ntwo\n---\nfour', { onPartLive, liveParts: [one?.uri ?? '', two?.uri ?? ''] }),
    );
    expect(again).toMatchObject({ kind: 'published', platformPostId: one?.uri });
    expect(world.sim.published.at(-1)?.record.reply).toEqual({
      root: { uri: one?.uri, cid: one?.cid },
      parent: { uri: two?.uri, cid: two?.cid },
    });
    expect(refs.every((r) => r.startsWith(`at://${ALICE}/app.bsky.feed.post/`))).toBe(true);
  });

  it('verifies by the record key chosen before the commit: live, absent, or too soon to tell', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    let ref = '';
    world.sim.faults.push({ match: (m, p) => m === 'POST' && p === '/xrpc/com.atproto.repo.createRecord', kind: 'reset', process: true });
    const lost = await world.publisher.publish(
      request(account, 'lost answer', {
        onPlatformRef: (r) => {
          ref = r;
          return Promise.resolve();
        },
      }),
    );
    expect(lost).toMatchObject({ kind: 'failed', failure: { class: 'unknown' } });
    const base = { account, tokens: account.tokens, text: 'lost answer', mediaCount: 0, committedAt: new Date(Date.now() - 120_000) };
    expect(await world.publisher.verify!({ ...base, platformId: ref })).toMatchObject({ kind: 'live', platformPostId: ref });
    const missing = `at://${ALICE}/app.bsky.feed.post/3kabcdefghij2`;
    expect(await world.publisher.verify!({ ...base, platformId: missing })).toMatchObject({ kind: 'absent' });
    expect(await world.publisher.verify!({ ...base, platformId: missing, committedAt: new Date() })).toMatchObject({ kind: 'unknown' });
    expect(await world.publisher.verify!({ ...base })).toMatchObject({ kind: 'unknown' });
  });

  it('maps a rate limit to retryable at RateLimit-Reset, and checks authorization', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    const reset = Math.ceil(Date.now() / 1000) + 120;
    world.sim.faults.push({
      match: (m, p) => m === 'POST' && p === '/xrpc/com.atproto.repo.createRecord',
      kind: 'status',
      status: 429,
      headers: { 'RateLimit-Reset': String(reset) },
    });
    const result = await world.publisher.publish(request(account, 'slow down'));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'bluesky:RateLimitExceeded' } });
    const wait = result.kind === 'failed' ? (result.failure.retryAfterMs ?? 0) : 0;
    expect(wait).toBeGreaterThan(100_000);
    expect(await world.publisher.checkAuthorization(account, account.tokens)).toEqual({ kind: 'ok' });
  });

  it('revokes the session at the authorization server; the PDS then refuses the token', async () => {
    world = await blueskyWorld();
    const account = await connect(world);
    await world.publisher.revoke(account, account.tokens);
    expect(world.sim.auth.sessions[0]?.revoked).toBe(true);
    expect(world.sim.requests.some((r) => r.path === '/oauth/revoke' && r.status === 200)).toBe(true);
    expect(await world.publisher.checkAuthorization(account, account.tokens)).toMatchObject({ kind: 'refused' });
  });
});
