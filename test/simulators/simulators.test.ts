/**
 * The real publishers against the simulators, over real loopback HTTP: consent, connect,
 * refresh, revoke and publishing on every platform, with media served by a small local
 * server standing in for IQSP's /media/:token route. These tests keep the simulators honest
 * (the publishers were built against recorded requests) and show how to use them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MediaInfo } from '../../src/media/media.js';
import { createFacebookPublisher } from '../../src/publishers/facebook/index.js';
import { createInstagramPublisher } from '../../src/publishers/instagram/index.js';
import type { MetaPublisherOptions } from '../../src/publishers/meta/options.js';
import {
  ConnectError,
  TokenRefreshError,
  type GrantedAccount,
  type PostDraft,
  type Publisher,
  type PublishRequest,
  type PublishResult,
} from '../../src/publishers/publisher.js';
import { createPublishers } from '../../src/publishers/registry.js';
import { planChunks } from '../../src/publishers/tiktok/chunks.js';
import { createTiktokPublisher } from '../../src/publishers/tiktok/index.js';
import { createXPublisher } from '../../src/publishers/x/index.js';
import { FileMediaAccess } from '../helpers/file-media.js';
import { writeMp4 } from '../helpers/mp4.js';
import { publishRequest as sharedPublishRequest } from '../helpers/publish-request.js';
import { startSimulators, XSimulator, type Simulators } from '../../src/simulators/index.js';
import { chunkPlanProblem } from '../../src/simulators/tiktok.js';

const REDIRECT = 'https://iqsp.test/oauth/callback';

/** Stands in for IQSP's GET /media/:token: serves registered files by media id. */
class MediaServer {
  readonly files = new Map<string, string>();
  readonly hits: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    const id = decodeURIComponent(/^\/media\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '');
    this.hits.push(id);
    const file = this.files.get(id);
    if (!file) {
      res.writeHead(404).end('gone');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** FileMediaAccess whose public URLs point at the local media server. */
class ServedMedia extends FileMediaAccess {
  constructor(
    workDir: string,
    private readonly server: MediaServer,
  ) {
    super(workDir);
  }

  override async add(file: string, info: Parameters<FileMediaAccess['add']>[1]): Promise<MediaInfo> {
    const media = await super.add(file, info);
    this.server.files.set(media.id, file);
    return media;
  }

  override async publicUrl(media: MediaInfo): Promise<string> {
    return `${this.server.url}/media/${encodeURIComponent(media.id)}`;
  }
}

let sims: Simulators;
let mediaServer: MediaServer;
let media: ServedMedia;
let workDir: string;
let facebook: Publisher;
let instagram: Publisher;
let x: Publisher;
let tiktok: Publisher;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-sims-'));
  mediaServer = new MediaServer();
  await mediaServer.start();
  media = new ServedMedia(workDir, mediaServer);
  sims = await startSimulators({ x: { mediaProcessing: { checkAfterSecs: 1, inProgressPolls: 2 } } });
  const env = sims.env;
  const meta: MetaPublisherOptions = {
    appId: env.FACEBOOK_APP_ID ?? '',
    appSecret: env.FACEBOOK_APP_SECRET ?? '',
    graphApiUrl: env.GRAPH_API_URL ?? '',
    authorizeUrl: env.FACEBOOK_AUTHORIZE_URL ?? '',
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  };
  facebook = createFacebookPublisher(meta);
  instagram = createInstagramPublisher(meta);
  x = createXPublisher({
    clientId: env.X_CLIENT_ID ?? '',
    clientSecret: env.X_CLIENT_SECRET ?? '',
    apiUrl: env.X_API_URL ?? '',
    authorizeUrl: env.X_AUTHORIZE_URL ?? '',
    // Small segments, so a small video takes several appends.
    chunkBytes: 64 * 1024,
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  });
  tiktok = createTiktokPublisher({
    clientKey: env.TIKTOK_CLIENT_KEY ?? '',
    clientSecret: env.TIKTOK_CLIENT_SECRET ?? '',
    apiUrl: env.TIKTOK_API_URL ?? '',
    authorizeUrl: env.TIKTOK_AUTHORIZE_URL ?? '',
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  });
});

afterAll(async () => {
  await sims?.close();
  await mediaServer?.close();
  rmSync(workDir, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------------------

async function jpeg(id: string, width = 1080, height = 1080): Promise<MediaInfo> {
  const file = path.join(workDir, `${id}.jpg`);
  await sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .jpeg()
    .toFile(file);
  return media.add(file, { id, kind: 'image', mimeType: 'image/jpeg', width, height, originalName: `${id}.jpg` });
}

async function png(id: string): Promise<MediaInfo> {
  const file = path.join(workDir, `${id}.png`);
  await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#cc3366' } })
    .png()
    .toFile(file);
  return media.add(file, { id, kind: 'image', mimeType: 'image/png', width: 1000, height: 1000, originalName: `${id}.png` });
}

async function mp4(id: string, sizeBytes: number, { width, height } = { width: 720, height: 1280 }): Promise<MediaInfo> {
  const file = path.join(workDir, `${id}.mp4`);
  await writeMp4(file, { durationMs: 12_000, width, height, sizeBytes });
  return media.add(file, {
    id,
    kind: 'video',
    mimeType: 'video/mp4',
    width,
    height,
    durationMs: 12_000,
    originalName: `${id}.mp4`,
  });
}

/** SHA-256 of consecutive slices of a media file, cut at `ends` (exclusive end offsets). */
async function sliceHashes(id: string, ends: readonly number[]): Promise<string[]> {
  const bytes = await readFile(mediaServer.files.get(id) ?? '');
  return ends.map((end, i) =>
    createHash('sha256')
      .update(bytes.subarray(ends[i - 1] ?? 0, end))
      .digest('hex'),
  );
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** consent URL → simulator approval → callback → finishConnect. */
async function connect(
  publisher: Publisher,
  options: { choice?: Parameters<Simulators['followConsent']>[1]; verifier?: string; challenge?: string } = {},
): Promise<GrantedAccount[]> {
  const consent = publisher.consentUrl({ state: 'state-1', redirectUri: REDIRECT, codeChallenge: options.challenge });
  const callback = new URL(await sims.followConsent(consent, options.choice));
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  expect(callback.searchParams.get('state')).toBe('state-1');
  const query = Object.fromEntries(callback.searchParams);
  return publisher.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier: options.verifier, query });
}

/** What a browser sends when Allow is clicked on a consent page: hidden inputs, checked boxes, each select's first option. */
async function clickAllow(consentUrl: string): Promise<URL> {
  const page = await (await fetch(consentUrl)).text();
  const submit = new URL(/<form method="get" action="([^"]+)"/.exec(page)?.[1] ?? '');
  for (const [, name, value] of page.matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  for (const [, name, value] of page.matchAll(/<select name="([^"]+)"><option value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  const answer = await fetch(submit, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') ?? '');
}

function publishRequest(account: GrantedAccount, draft: Partial<PostDraft>): PublishRequest {
  const { platformAccountId, platformUserId, handle, displayName } = account;
  return sharedPublishRequest({
    account: { platformAccountId, platformUserId, handle, displayName },
    tokens: account.tokens,
    draft,
    media,
  });
}

function published(result: PublishResult): { platformPostId: string; permalink: string } {
  if (result.kind !== 'published') throw new Error(`expected published, got ${JSON.stringify(result)}`);
  return result;
}

function failure(result: PublishResult): Extract<PublishResult, { kind: 'failed' }>['failure'] {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

// ---- configuration ---------------------------------------------------------------------

it('sims.env is a configuration IQSP accepts, enabling every publisher', () => {
  const config = loadConfig(sims.env);
  expect([config.platformApps.meta?.enabled, config.platformApps.x?.enabled, config.platformApps.tiktok?.enabled]).toEqual([
    true,
    true,
    true,
  ]);
  expect([...createPublishers(config).keys()].sort()).toEqual([
    'bluesky',
    'facebook',
    'instagram',
    'linkedin',
    'threads',
    'tiktok',
    'x',
    'youtube',
  ]);
});

it('the HTML consent pages: clicking Allow redirects with a code the publishers can use', async () => {
  const { verifier, challenge } = pkce();
  for (const [publisher, codeVerifier] of [
    [facebook, undefined],
    [x, verifier],
    [tiktok, undefined],
  ] as const) {
    const callback = await clickAllow(publisher.consentUrl({ state: 'browser', redirectUri: REDIRECT, codeChallenge: challenge }));
    const query = Object.fromEntries(callback.searchParams);
    expect(query.state).toBe('browser');
    const accounts = await publisher.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier, query });
    expect(accounts.length).toBeGreaterThan(0);
  }
});

// ---- Facebook --------------------------------------------------------------------------

describe('Graph simulator with the Facebook publisher', () => {
  let page: GrantedAccount;

  beforeAll(async () => {
    const accounts = await connect(facebook);
    expect(accounts.map((a) => a.displayName)).toEqual(['Acme Inc', 'Acme Shop']);
    page = accounts[0] as GrantedAccount;
  });

  it('connects every granted Page with its profile and a non-expiring Page token', () => {
    expect(page).toMatchObject({
      platformAccountId: '100000000000001',
      platformUserId: '10160000000000001',
      avatarUrl: 'https://scontent.simulator.test/acme.jpg',
    });
    expect(page.tokens.expiresAt).toBeUndefined();
    expect(page.tokens.scopes?.split(' ')).toEqual(
      expect.arrayContaining(['pages_show_list', 'pages_read_engagement', 'pages_manage_posts']),
    );
    // appsecret_proof is required by default, so every token call carried a valid one.
    expect(sims.graph.requests.filter((r) => r.query.access_token !== undefined).every((r) => r.query.appsecret_proof)).toBe(true);
  });

  it('refuses a code used twice, and reports a denied consent', async () => {
    const consent = facebook.consentUrl({ state: 's', redirectUri: REDIRECT });
    const query = Object.fromEntries(new URL(await sims.followConsent(consent)).searchParams);
    await facebook.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, query });
    await expect(facebook.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, query })).rejects.toThrow(
      /authorization code has been used/,
    );
    const denied = Object.fromEntries(new URL(await sims.denyConsent(consent)).searchParams);
    expect(denied).toMatchObject({ error: 'access_denied', error_reason: 'user_denied', state: 's' });
    await expect(facebook.finishConnect({ code: '', redirectUri: REDIRECT, query: denied })).rejects.toBeInstanceOf(ConnectError);
  });

  it('publishes text, a photo, several photos and a video, fetching media from its URL', async () => {
    const text = published(await facebook.publish(publishRequest(page, { caption: 'Hello from the simulator' })));
    expect(text.permalink).toBe(`https://www.facebook.com/acmeinc/posts/${text.platformPostId.split('_')[1]}`);

    const photo = await jpeg('fb-photo');
    published(await facebook.publish(publishRequest(page, { caption: 'One photo', media: [photo] })));
    const photos = published(
      await facebook.publish(publishRequest(page, { caption: 'Two photos', media: [await jpeg('fb-a'), await jpeg('fb-b', 1200, 800)] })),
    );
    // Landscape: a Page video (a vertical clip would be a reel).
    const clip = await mp4('fb-clip', 50_000, { width: 1280, height: 720 });
    const video = published(await facebook.publish(publishRequest(page, { caption: 'A clip', media: [clip] })));
    expect(video.permalink).toBe(`https://www.facebook.com/100000000000001/videos/${video.platformPostId}/`);

    const posts = sims.graph.published.filter((p) => p.platform === 'facebook');
    expect(posts.map((p) => [p.kind, p.caption])).toEqual([
      ['text', 'Hello from the simulator'],
      ['photo', 'One photo'],
      ['photos', 'Two photos'],
      ['video', 'A clip'],
    ]);
    expect(posts[1]?.media[0]).toMatchObject({ bytes: photo.sizeBytes, sha256: photo.sha256, type: 'image/jpeg' });
    expect(posts.find((p) => p.id === photos.platformPostId)?.media).toHaveLength(2);
  });

  it('refuses a duplicate status message (506) as a content problem', async () => {
    await facebook.publish(publishRequest(page, { caption: 'Same words' }));
    expect(failure(await facebook.publish(publishRequest(page, { caption: 'Same words' })))).toMatchObject({
      class: 'content',
      platformCode: 'meta:506',
    });
  });

  it('injected faults: a 5xx on the committing request is unknown, a lost answer leaves a live post', async () => {
    sims.graph.faults.push({ match: (m, p) => m === 'POST' && p.endsWith('/feed'), kind: 'status', status: 503 });
    expect(failure(await facebook.publish(publishRequest(page, { caption: 'Fault 503' })))).toMatchObject({
      class: 'unknown',
      platformCode: 'meta:2',
    });

    sims.graph.faults.push({ match: (m, p) => m === 'POST' && p.endsWith('/feed'), kind: 'reset', process: true });
    expect(failure(await facebook.publish(publishRequest(page, { caption: 'Answer lost' })))).toMatchObject({
      class: 'unknown',
      platformCode: 'network',
    });
    expect(sims.graph.published.at(-1)?.caption).toBe('Answer lost');
  });

  it("verify finds a post whose answer was lost among the Page's published_posts; one never sent is absent", async () => {
    const asked = { account: { platformAccountId: page.platformAccountId, displayName: 'Acme Inc' }, tokens: page.tokens, mediaCount: 0 };
    const lost = sims.graph.published.find((p) => p.caption === 'Answer lost')!;
    expect(await facebook.verify!({ ...asked, text: 'Answer lost', committedAt: lost.at })).toEqual({
      kind: 'live',
      platformPostId: lost.id,
      permalink: lost.permalink,
    });
    expect(await facebook.verify!({ ...asked, text: 'Never sent', committedAt: new Date() })).toMatchObject({ kind: 'absent' });
    const read = sims.graph.requests.filter((r) => r.path.endsWith('/published_posts')).at(-1)!;
    expect(read.query).toMatchObject({ fields: 'id,message,created_time,permalink_url', limit: '100' });
    expect(read.status).toBe(200);
  });
});

// ---- Instagram -------------------------------------------------------------------------

describe('Graph simulator with the Instagram publisher', () => {
  let account: GrantedAccount;

  beforeAll(async () => {
    const accounts = await connect(instagram);
    expect(accounts).toHaveLength(1);
    account = accounts[0] as GrantedAccount;
  });

  it('connects the Instagram account linked to a granted Page', () => {
    expect(account).toMatchObject({
      platformAccountId: '17841400000000001',
      handle: 'acme',
      displayName: 'Acme Inc',
      avatarUrl: 'https://scontent.simulator.test/acme-ig.jpg',
    });
  });

  it('publishes an image (PNG sent as its JPEG copy), a reel and a carousel through containers', async () => {
    const image = published(await instagram.publish(publishRequest(account, { caption: 'Square #iqsp', media: [await png('ig-png')] })));
    expect(image.permalink).toMatch(/^https:\/\/www\.instagram\.com\/p\/[\w-]+\/$/);
    const reel = published(await instagram.publish(publishRequest(account, { caption: 'Reel', media: [await mp4('ig-reel', 40_000)] })));
    expect(reel.permalink).toMatch(/\/reel\//);
    published(
      await instagram.publish(publishRequest(account, { caption: 'Carousel', media: [await jpeg('ig-c1'), await mp4('ig-c2', 30_000)] })),
    );

    const posts = sims.graph.published.filter((p) => p.platform === 'instagram');
    expect(posts.map((p) => [p.kind, p.caption, p.media.length])).toEqual([
      ['image', 'Square #iqsp', 1],
      ['reel', 'Reel', 1],
      ['carousel', 'Carousel', 2],
    ]);
    expect(posts[0]?.media[0]?.type).toBe('image/jpeg');
    expect(mediaServer.hits).toContain('ig-png-jpeg');
  });

  it('media_publish answering "not ready" is retried until it works', async () => {
    sims.graph.mediaNotReady(2);
    published(await instagram.publish(publishRequest(account, { caption: 'Third try', media: [await jpeg('ig-retry')] })));
    const answers = sims.graph.requests.filter((r) => r.path.endsWith('/media_publish')).slice(-3);
    expect(answers.map((r) => r.status)).toEqual([400, 400, 200]);
  });

  it("verify finds a post whose media_publish answer was lost among the account's media; a caption never published is absent", async () => {
    sims.graph.faults.push({ match: (m, p) => m === 'POST' && p.endsWith('/media_publish'), kind: 'reset', process: true });
    expect(
      failure(await instagram.publish(publishRequest(account, { caption: 'IG answer lost', media: [await jpeg('ig-lost')] }))),
    ).toMatchObject({
      class: 'unknown',
    });
    const lost = sims.graph.published.find((p) => p.platform === 'instagram' && p.caption === 'IG answer lost')!;
    const asked = {
      account: { platformAccountId: account.platformAccountId, handle: 'acme', displayName: 'Acme' },
      tokens: account.tokens,
      mediaCount: 1,
    };
    expect(await instagram.verify!({ ...asked, text: 'IG answer lost', committedAt: lost.at })).toEqual({
      kind: 'live',
      platformPostId: lost.id,
      permalink: lost.permalink,
    });
    expect(await instagram.verify!({ ...asked, text: 'Never published', committedAt: new Date() })).toMatchObject({ kind: 'absent' });
  });

  it('a media URL Instagram cannot fetch is the real 9004 / 2207052 error', async () => {
    const gone = await jpeg('ig-gone');
    mediaServer.files.delete('ig-gone');
    expect(failure(await instagram.publish(publishRequest(account, { caption: 'Unreachable', media: [gone] })))).toMatchObject({
      class: 'content',
      platformCode: 'meta:9004/2207052',
    });
    expect(sims.graph.mediaFetches.at(-1)).toMatchObject({ ok: false, reason: 'HTTP 404' });
  });

  it('revoking the grant (DELETE /{user}/permissions) makes every token fail with 190', async () => {
    await instagram.revoke(account, account.tokens);
    expect(sims.graph.grantOf('10160000000000001')?.revoked).toBe(true);
    expect(
      failure(await instagram.publish(publishRequest(account, { caption: 'After revoke', media: [await jpeg('ig-after')] }))),
    ).toMatchObject({
      class: 'reconnect',
      platformCode: 'meta:190/458',
    });
  });
});

// ---- the token endpoints' checks ---------------------------------------------------------

describe('token endpoints check what the real ones check', () => {
  /** Consent on `publisher`, then the code exchange as `exchanger` (other secret) with `redirectUri`. */
  async function exchange(
    publisher: Publisher,
    exchanger: Publisher,
    redirectUri: string,
    pkcePair?: { verifier: string; challenge: string },
  ) {
    const consent = publisher.consentUrl({ state: 'state-1', redirectUri: REDIRECT, codeChallenge: pkcePair?.challenge });
    const query = Object.fromEntries(new URL(await sims.followConsent(consent)).searchParams);
    return exchanger.finishConnect({ code: query.code ?? '', redirectUri, codeVerifier: pkcePair?.verifier, query });
  }
  const env = () => sims.env;

  it("X: a redirect URI other than the authorization's, or a wrong client secret, is refused", async () => {
    await expect(exchange(x, x, 'https://elsewhere.test/callback', pkce())).rejects.toBeInstanceOf(ConnectError);
    const wrongSecret = createXPublisher({
      clientId: env().X_CLIENT_ID ?? '',
      clientSecret: 'not-the-secret',
      apiUrl: env().X_API_URL ?? '',
      authorizeUrl: env().X_AUTHORIZE_URL ?? '',
    });
    await expect(exchange(x, wrongSecret, REDIRECT, pkce())).rejects.toBeInstanceOf(ConnectError);
    expect(
      sims.x.requests
        .filter((r) => r.path === '/2/oauth2/token')
        .slice(-2)
        .map((r) => r.status),
    ).toEqual([400, 401]);
  });

  it("TikTok: a redirect URI other than the authorization's, or a wrong client secret, is refused", async () => {
    await expect(exchange(tiktok, tiktok, 'https://elsewhere.test/callback')).rejects.toBeInstanceOf(ConnectError);
    const wrongSecret = createTiktokPublisher({
      clientKey: env().TIKTOK_CLIENT_KEY ?? '',
      clientSecret: 'not-the-secret',
      apiUrl: env().TIKTOK_API_URL ?? '',
      authorizeUrl: env().TIKTOK_AUTHORIZE_URL ?? '',
    });
    await expect(exchange(tiktok, wrongSecret, REDIRECT)).rejects.toBeInstanceOf(ConnectError);
  });

  it("Meta: a redirect URI other than the authorization's, or a wrong app secret, is refused", async () => {
    await expect(exchange(facebook, facebook, 'https://elsewhere.test/callback')).rejects.toBeInstanceOf(ConnectError);
    const wrongSecret = createFacebookPublisher({
      appId: env().FACEBOOK_APP_ID ?? '',
      appSecret: 'not-the-secret',
      graphApiUrl: env().GRAPH_API_URL ?? '',
      authorizeUrl: env().FACEBOOK_AUTHORIZE_URL ?? '',
    });
    await expect(exchange(facebook, wrongSecret, REDIRECT)).rejects.toBeInstanceOf(ConnectError);
  });
});

// ---- X ---------------------------------------------------------------------------------

describe('X simulator with the X publisher', () => {
  let account: GrantedAccount;

  beforeAll(async () => {
    const { verifier, challenge } = pkce();
    const accounts = await connect(x, { verifier, challenge });
    account = accounts[0] as GrantedAccount;
  });

  it('connects with PKCE S256 and reads the profile', () => {
    expect(account).toMatchObject({ platformAccountId: '1500000000000000001', handle: 'acme', displayName: 'Acme Inc' });
    const lifetime = (account.tokens.expiresAt?.getTime() ?? 0) - Date.now();
    expect(lifetime).toBeGreaterThan(7_190_000);
    expect(account.tokens.refreshToken).toBeDefined();
  });

  it('refuses a wrong PKCE verifier, and a code used twice', async () => {
    const { challenge } = pkce();
    const wrong = pkce().verifier;
    await expect(connect(x, { verifier: wrong, challenge })).rejects.toBeInstanceOf(ConnectError);
    const tokenAnswer = sims.x.requests.filter((r) => r.path === '/2/oauth2/token').at(-1);
    expect(tokenAnswer?.status).toBe(400);

    const pair = pkce();
    const consent = x.consentUrl({ state: 'state-1', redirectUri: REDIRECT, codeChallenge: pair.challenge });
    const query = Object.fromEntries(new URL(await sims.followConsent(consent)).searchParams);
    await x.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier: pair.verifier, query });
    await expect(
      x.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier: pair.verifier, query }),
    ).rejects.toBeInstanceOf(ConnectError);
  });

  it('rotates refresh tokens; the old one is refused for good', async () => {
    const fresh = await x.refresh(account.tokens);
    expect(fresh.refreshToken).not.toBe(account.tokens.refreshToken);
    const refused = await x.refresh(account.tokens).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TokenRefreshError);
    expect((refused as TokenRefreshError).permanent).toBe(true);
    account = { ...account, tokens: fresh };
  });

  it('publishes text, images and a chunked video that needs processing', async () => {
    published(await x.publish(publishRequest(account, { caption: 'Hello X' })));
    const image = await png('x-png');
    published(await x.publish(publishRequest(account, { caption: 'Two images', media: [image, await jpeg('x-jpg', 80, 80)] })));
    const video = await mp4('x-video', 200_000);
    const result = published(await x.publish(publishRequest(account, { caption: 'Watch', media: [video] })));
    expect(result.permalink).toBe(`https://x.com/acme/status/${result.platformPostId}`);

    const posts = sims.x.published;
    expect(posts.map((p) => [p.text, p.media.length])).toEqual([
      ['Hello X', 0],
      ['Two images', 2],
      ['Watch', 1],
    ]);
    expect(posts[1]?.media[0]).toMatchObject({ bytes: image.sizeBytes, segmentSha256: [image.sha256] });
    expect(posts[2]?.media[0]).toMatchObject({ category: 'tweet_video', bytes: video.sizeBytes });
    const segmentEnds = Array.from({ length: Math.ceil(video.sizeBytes / (64 * 1024)) }, (_, i) =>
      Math.min((i + 1) * 64 * 1024, video.sizeBytes),
    );
    expect(posts[2]?.media[0]?.segmentSha256).toEqual(await sliceHashes('x-video', segmentEnds));
    const statusPolls = sims.x.requests.filter((r) => r.path === '/2/media/upload' && r.query.command === 'STATUS');
    expect(statusPolls).toHaveLength(3);
    expect(sims.x.requests.at(-1)?.headers.authorization).toBe('Bearer …');
  });

  it("answers the account's posts as X shows them (GET /2/users/:id/tweets), and verify finds one accepted whose answer was lost", async () => {
    const since = new Date(Date.now() - 60_000);
    // X creates the post, then the connection drops before its answer arrives.
    sims.x.faults.push({ match: (m, p) => m === 'POST' && p === '/2/tweets', kind: 'reset', process: true });
    const caption = 'Lost answer & a link: https://example.com/x?y=1';
    expect(failure(await x.publish(publishRequest(account, { caption, media: [await png('x-lost')] })))).toMatchObject({
      class: 'unknown',
    });
    const tweet = sims.x.published.at(-1)!;

    const answer = await fetch(
      `${sims.x.url}/2/users/${account.platformAccountId}/tweets?max_results=5&tweet.fields=created_at,attachments&start_time=${since.toISOString()}`,
      { headers: { Authorization: `Bearer ${account.tokens.accessToken}` } },
    );
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { data: Array<Record<string, unknown>>; meta: Record<string, unknown> };
    expect(body.data[0]).toMatchObject({
      id: tweet.id,
      created_at: tweet.at.toISOString(),
      attachments: { media_keys: [expect.any(String)] },
    });
    expect(body.data[0]!.text).toMatch(/^Lost answer &amp; a link: https:\/\/t\.co\/\w{10} https:\/\/t\.co\/\w{10}$/);
    expect(body.meta).toMatchObject({ newest_id: tweet.id });
    const bad = await fetch(`${sims.x.url}/2/users/${account.platformAccountId}/tweets?max_results=500`, {
      headers: { Authorization: `Bearer ${account.tokens.accessToken}` },
    });
    expect(bad.status).toBe(400);

    const asked = {
      account: { platformAccountId: account.platformAccountId, handle: 'acme', displayName: 'Acme Inc' },
      tokens: account.tokens,
    };
    expect(await x.verify!({ ...asked, text: caption, mediaCount: 1, committedAt: new Date() })).toEqual({
      kind: 'live',
      platformPostId: tweet.id,
      permalink: tweet.permalink,
    });
    expect(await x.verify!({ ...asked, text: 'Never sent', mediaCount: 0, committedAt: new Date() })).toMatchObject({ kind: 'absent' });
  });

  it("refuses duplicates and text over 280 weighted characters with X's 403s", async () => {
    expect(failure(await x.publish(publishRequest(account, { caption: 'Hello X' })))).toMatchObject({
      class: 'content',
      platformCode: 'x:duplicate',
    });
    // publish() trusts validate(), so the simulator's own length rule is what refuses this.
    expect(failure(await x.publish(publishRequest(account, { caption: '😀'.repeat(141) })))).toMatchObject({
      class: 'content',
      platformCode: 'x:403',
    });
  });

  it('a 429 with x-rate-limit-reset is retryable after the reset', async () => {
    sims.x.faults.push({ match: (m, p) => m === 'POST' && p === '/2/tweets', kind: 'status', status: 429 });
    const limited = failure(await x.publish(publishRequest(account, { caption: 'Rate limited' })));
    expect(limited).toMatchObject({ class: 'retryable', platformCode: 'x:429' });
    expect(limited.retryAfterMs).toBeGreaterThan(890_000);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(901_000);
  });

  it('an exhausted per-user budget answers 429 with the window reset', async () => {
    const small = await new XSimulator({
      rateLimits: {
        tweets: { limit: 1, windowSec: 60 },
        usersMe: { limit: 75, windowSec: 900 },
        mediaUpload: { limit: 1875, windowSec: 900 },
        mediaStatus: { limit: 1000, windowSec: 900 },
      },
    }).start();
    try {
      const publisher = createXPublisher({
        clientId: small.options.clientId,
        clientSecret: small.options.clientSecret,
        apiUrl: small.url,
        authorizeUrl: small.authorizeUrl,
      });
      const { verifier, challenge } = pkce();
      const consent = publisher.consentUrl({ state: 's', redirectUri: REDIRECT, codeChallenge: challenge });
      const query = Object.fromEntries(new URL(await small.approveConsent(consent)).searchParams);
      const [acct] = await publisher.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier: verifier, query });
      if (!acct) throw new Error('no account');
      published(await publisher.publish(publishRequest(acct, { caption: 'first' })));
      const limited = failure(await publisher.publish(publishRequest(acct, { caption: 'second' })));
      expect(limited.class).toBe('retryable');
      expect(limited.retryAfterMs).toBeGreaterThan(50_000);
      expect(limited.retryAfterMs).toBeLessThanOrEqual(61_000);
    } finally {
      await small.close();
    }
  });

  it('revoke ends the grant: the access token stops working', async () => {
    await x.revoke(account, account.tokens);
    expect(failure(await x.publish(publishRequest(account, { caption: 'After revoke' })))).toMatchObject({
      class: 'reconnect',
      platformCode: 'x:401',
    });
  });
});

// ---- TikTok ----------------------------------------------------------------------------

describe('TikTok simulator with the TikTok publisher', () => {
  let account: GrantedAccount;

  beforeAll(async () => {
    const accounts = await connect(tiktok);
    account = accounts[0] as GrantedAccount;
  });

  it('connects with the granted scopes and the profile', () => {
    expect(account).toMatchObject({ platformAccountId: '-000AcmeOpenId0000000000000000001', handle: 'acme', displayName: 'Acme Inc' });
    expect(account.tokens.scopes).toBe('user.info.basic user.info.profile video.publish');
    expect(account.tokens.refreshExpiresAt).toBeDefined();
  });

  it('a consent with an unticked scope is refused by the publisher', async () => {
    await expect(connect(tiktok, { choice: { scopes: ['user.info.basic', 'user.info.profile'] } })).rejects.toThrow(/video\.publish/);
  });

  it('the HTML consent page: Allow submits the ticked scopes and redirects with code and scopes', async () => {
    const consent = tiktok.consentUrl({ state: 'html-state', redirectUri: REDIRECT });
    const page = await (await fetch(consent)).text();
    const action = /<form method="get" action="([^"]+)"/.exec(page)?.[1] ?? '';
    const consentId = /name="consent" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const submit = new URL(action);
    submit.searchParams.set('consent', consentId);
    submit.searchParams.set('scope_present', '1');
    for (const scope of ['user.info.basic', 'video.publish']) submit.searchParams.append('scope', scope);
    const answer = await fetch(submit, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const callback = new URL(answer.headers.get('location') ?? '');
    expect(callback.searchParams.get('scopes')).toBe('user.info.basic,video.publish');
    expect(callback.searchParams.get('state')).toBe('html-state');
  });

  it('rotates refresh tokens; the old one is refused', async () => {
    const fresh = await tiktok.refresh(account.tokens);
    expect(fresh.refreshToken).toMatch(/^rft\./);
    await expect(tiktok.refresh(account.tokens)).rejects.toMatchObject({ permanent: true });
    account = { ...account, tokens: fresh };
  });

  it('publishes a two-chunk video (FILE_UPLOAD) and photos (PULL_FROM_URL)', async () => {
    // Over 10 MiB, so the publisher's 5 MiB chunks make two: 5 MiB, then the 6 MiB rest.
    const video = await mp4('tt-video', 11 * 1024 * 1024);
    const clip = published(
      await tiktok.publish(publishRequest(account, { caption: 'Launch day #acme', media: [video], options: { privacy: 'public' } })),
    );
    expect(clip.permalink).toBe(`https://www.tiktok.com/@acme/video/${clip.platformPostId}`);
    const puts = sims.tiktok.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => [r.headers['content-range'], r.status])).toEqual([
      [`bytes 0-${5 * 1024 * 1024 - 1}/${video.sizeBytes}`, 206],
      [`bytes ${5 * 1024 * 1024}-${video.sizeBytes - 1}/${video.sizeBytes}`, 201],
    ]);

    const photos = published(
      await tiktok.publish(
        publishRequest(account, {
          caption: 'Three colours\nAvailable today',
          media: [await png('tt-p1'), await jpeg('tt-p2')],
          options: { privacy: 'friends' },
        }),
      ),
    );
    expect(photos.permalink).toMatch(/\/photo\/\d{19}$/);
    expect(sims.tiktok.published.map((p) => [p.kind, p.privacyLevel, p.media.length, p.title ?? null])).toEqual([
      ['video', 'PUBLIC_TO_EVERYONE', 1, 'Launch day #acme'],
      ['photo', 'MUTUAL_FOLLOW_FRIENDS', 2, 'Three colours'],
    ]);
    expect(sims.tiktok.published[0]?.media[0]).toMatchObject({ bytes: video.sizeBytes, type: 'video/mp4' });
    expect(sims.tiktok.published[0]?.media[0]?.chunkSha256).toEqual(await sliceHashes('tt-video', [5 * 1024 * 1024, video.sizeBytes]));
  });

  it('verify asks the status by publish id: live with the post link; an id TikTok never gave cannot tell', async () => {
    const video = sims.tiktok.published[0]!;
    const asked = {
      account: { platformAccountId: account.platformAccountId, handle: 'acme', displayName: 'Acme Inc' },
      tokens: account.tokens,
      text: 'Launch day #acme',
      mediaCount: 1,
      committedAt: video.at,
    };
    expect(await tiktok.verify!({ ...asked, platformId: video.publishId })).toEqual({
      kind: 'live',
      platformPostId: video.postId,
      permalink: video.permalink,
    });
    expect(await tiktok.verify!({ ...asked, platformId: 'v_pub_file~v2-1.404' })).toMatchObject({ kind: 'unknown' });
    expect(await tiktok.verify!(asked)).toMatchObject({ kind: 'unknown' });
  });

  it('accepts every chunk plan the publisher makes, and refuses plans that break the rules', () => {
    const MiB = 1024 * 1024;
    for (const size of [
      1,
      4 * MiB,
      5_000_001,
      5 * MiB - 1,
      5 * MiB,
      5 * MiB + 1,
      10 * MiB,
      64_000_000,
      64_000_001,
      100 * MiB,
      1024 * MiB,
      4 * 1024 * MiB,
    ]) {
      const plan = planChunks(size, 5 * MiB);
      expect(chunkPlanProblem(plan.videoSize, plan.chunkSize, plan.totalChunkCount), `video of ${size} bytes`).toMatchObject({
        videoSize: size,
      });
    }
    expect(chunkPlanProblem(4 * MiB, 1 * MiB, 4)).toMatch(/under 5 MB is uploaded whole/);
    expect(chunkPlanProblem(50_000_123, 10_000_000, 6)).toMatch(/floor\(video_size \/ chunk_size\) = 5/);
    expect(chunkPlanProblem(100 * MiB, 100 * MiB, 1)).toMatch(/between 5 MB and 64 MB/);
    expect(chunkPlanProblem(300 * MiB, 60 * MiB, 4)).toMatch(/= 5, not 4/);
    expect(chunkPlanProblem(50_000_123, 10_000_000, 5)).toEqual({ videoSize: 50_000_123, chunkSize: 10_000_000, totalChunks: 5 });
  });

  it('an unaudited app may post only privately to private accounts', async () => {
    sims.tiktok.options.audited = false;
    try {
      const result = await tiktok.publish(
        publishRequest(account, { caption: 'Public please', media: [await mp4('tt-unaudited', 3_000)], options: { privacy: 'public' } }),
      );
      expect(failure(result)).toMatchObject({
        class: 'content',
        platformCode: 'tiktok:unaudited_client_can_only_post_to_private_accounts',
      });
    } finally {
      sims.tiktok.options.audited = true;
    }
  });

  it('an injected 429 is retryable', async () => {
    sims.tiktok.faults.push({
      match: (_m, p) => p.includes('creator_info'),
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '30' },
    });
    const result = await tiktok.publish(
      publishRequest(account, { caption: 'Busy', media: [await jpeg('tt-busy')], options: { privacy: 'public' } }),
    );
    expect(failure(result)).toMatchObject({ class: 'retryable', platformCode: 'tiktok:rate_limit_exceeded', retryAfterMs: 30_000 });
  });

  it('revoke ends the grant', async () => {
    await tiktok.revoke(account, account.tokens);
    const result = await tiktok.publish(
      publishRequest(account, { caption: 'After revoke', media: [await jpeg('tt-after')], options: { privacy: 'public' } }),
    );
    expect(failure(result)).toMatchObject({ class: 'reconnect', platformCode: 'tiktok:access_token_invalid' });
  });
});
