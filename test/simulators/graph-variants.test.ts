/**
 * The Graph simulator's Instagram Login and Reels, with the real publishers over loopback HTTP:
 * Instagram connected both ways is one account, each way publishes through its own API; Instagram
 * Login's tokens renew only when a day old; a vertical clip to a Page becomes a reel (start, the
 * rupload host enforcing its headers, finish, status), listed among the Page's reels; the daily cap.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../src/media/media.js';
import { createFacebookPublisher } from '../../src/publishers/facebook/index.js';
import { appSecretProof } from '../../src/publishers/meta/graph-client.js';
import { createInstagramPublisher } from '../../src/publishers/instagram/index.js';
import type { MetaPublisherOptions } from '../../src/publishers/meta/options.js';
import { TokenRefreshError, type AccountRef, type GrantedAccount, type PostDraft, type Publisher } from '../../src/publishers/publisher.js';
import { GraphSimulator } from '../../src/simulators/graph.js';
import { FileMediaAccess } from '../helpers/file-media.js';
import { writeMp4 } from '../helpers/mp4.js';
import { publishRequest } from '../helpers/publish-request.js';

const REDIRECT = 'https://iqsp.test/oauth/instagram/callback';

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

let graph: GraphSimulator;
let mediaServer: MediaServer;
let media: ServedMedia;
let workDir: string;
let instagram: Publisher;
let facebook: Publisher;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-graph-variants-'));
  mediaServer = new MediaServer();
  await mediaServer.start();
  media = new ServedMedia(workDir, mediaServer);
  graph = new GraphSimulator({ latencyMs: 0, reelsDailyLimit: 2, videoPolls: 1 });
  await graph.start();
  const meta: MetaPublisherOptions = {
    appId: graph.options.appId,
    appSecret: graph.options.appSecret,
    graphApiUrl: graph.graphApiUrl,
    authorizeUrl: graph.authorizeUrl,
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  };
  facebook = createFacebookPublisher(meta);
  instagram = createInstagramPublisher(meta, {
    appId: graph.options.instagramAppId,
    appSecret: graph.options.instagramAppSecret,
    apiUrl: graph.instagramApiUrl,
    authorizeUrl: graph.instagramAuthorizeUrl,
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  });
});

afterAll(async () => {
  await graph?.close();
  await mediaServer?.close();
  rmSync(workDir, { recursive: true, force: true });
});

async function connect(publisher: Publisher, variant: string, choice = {}): Promise<GrantedAccount[]> {
  const consent = publisher.consentUrl({ state: `${variant}.s1`, redirectUri: REDIRECT, variant });
  const callback = new URL(await graph.approveConsent(consent, choice));
  return publisher.finishConnect({
    code: callback.searchParams.get('code') ?? '',
    redirectUri: REDIRECT,
    query: Object.fromEntries(callback.searchParams),
    variant,
  });
}

function ref(account: GrantedAccount): AccountRef {
  return {
    platformAccountId: account.platformAccountId,
    platformUserId: account.platformUserId,
    handle: account.handle,
    displayName: account.displayName,
  };
}

async function vertical(id: string, durationMs = 12_000): Promise<MediaInfo> {
  const file = path.join(workDir, `${id}.mp4`);
  await writeMp4(file, { durationMs, width: 1080, height: 1920, sizeBytes: 40_000 });
  return media.add(file, { id, kind: 'video', mimeType: 'video/mp4', width: 1080, height: 1920, durationMs, originalName: `${id}.mp4` });
}

describe('Instagram Login on the Graph simulator', () => {
  it('connects the same professional account both ways (one id), each way with its own token', async () => {
    const [viaInstagram] = await connect(instagram, 'instagram-login');
    const [viaFacebook] = await connect(instagram, 'facebook-login', { pages: ['100000000000001'] });
    expect(viaInstagram?.platformAccountId).toBe(viaFacebook?.platformAccountId);
    expect(viaInstagram).toMatchObject({ handle: 'acme', tokens: { extra: { connectedWith: 'instagram-login' } } });
    expect(viaInstagram?.tokens.refreshToken).toBe(viaInstagram?.tokens.accessToken);
    expect(viaFacebook?.tokens.extra).toEqual({ userAccessToken: expect.any(String) });
    // The two APIs keep their tokens apart.
    const wrongHost = await fetch(`${graph.graphApiUrl}/me?access_token=${viaInstagram!.tokens.accessToken}`);
    expect(((await wrongHost.json()) as { error: { code: number } }).error.code).toBe(190);
  });

  it('refuses an old business_* scope and a reused code as Instagram does', async () => {
    const consent = new URL(instagram.consentUrl({ state: 's', redirectUri: REDIRECT, variant: 'instagram-login' }));
    consent.searchParams.set('scope', 'business_basic');
    await expect(graph.approveConsent(consent.toString())).rejects.toThrow(/Invalid Scopes: business_basic/);
    const fine = instagram.consentUrl({ state: 's', redirectUri: REDIRECT, variant: 'instagram-login' });
    const code = new URL(await graph.approveConsent(fine)).searchParams.get('code') ?? '';
    const request = { code, redirectUri: REDIRECT, query: { code }, variant: 'instagram-login' };
    await instagram.finishConnect(request);
    await expect(instagram.finishConnect(request)).rejects.toThrow(/This authorization code has been used/);
  });

  it('publishes an image through graph.instagram.com with the Instagram Login token, verifies it, checks the account', async () => {
    const [account] = await connect(instagram, 'instagram-login');
    const file = path.join(workDir, 'ig.jpg');
    await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#3366cc' } })
      .jpeg()
      .toFile(file);
    const image = await media.add(file, { id: 'ig', kind: 'image', mimeType: 'image/jpeg', width: 1080, height: 1080 });
    const before = graph.requests.length;
    const draft: Partial<PostDraft> = { caption: 'Through Instagram Login', media: [image] };
    const result = await instagram.publish(publishRequest({ account: ref(account!), tokens: account!.tokens, draft, media }));
    expect(result).toMatchObject({ kind: 'published', permalink: expect.stringMatching(/^https:\/\/www\.instagram\.com\/p\//) });
    const paths = graph.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain(`POST /instagram-graph/${account!.platformAccountId}/media_publish`);
    expect(paths.some((p) => p.includes('/v26.0/'))).toBe(false);
    expect(graph.published.at(-1)).toMatchObject({ platform: 'instagram', caption: 'Through Instagram Login' });
    if (result.kind !== 'published') throw new Error('not published');
    expect(
      await instagram.verify!({
        account: ref(account!),
        tokens: account!.tokens,
        text: 'Through Instagram Login',
        mediaCount: 1,
        committedAt: new Date(),
      }),
    ).toMatchObject({ kind: 'live', platformPostId: result.platformPostId });
    expect(await instagram.checkAuthorization(ref(account!), account!.tokens)).toEqual({ kind: 'ok' });
  });

  it('renews a long-lived token once it is a day old, never before', async () => {
    const [account] = await connect(instagram, 'instagram-login');
    const young = await instagram.refresh(account!.tokens).catch((e: unknown) => e);
    expect(young).toBeInstanceOf(TokenRefreshError);
    expect((young as TokenRefreshError).message).toMatch(/at least 24 hours old/);
    graph.ageInstagramToken(account!.tokens.accessToken, 25 * 3600_000);
    const renewed = await instagram.refresh(account!.tokens);
    expect(renewed.accessToken).not.toBe(account!.tokens.accessToken);
    expect(renewed.extra).toEqual({ connectedWith: 'instagram-login' });
  });
});

describe('Facebook Reels on the Graph simulator', () => {
  let page: GrantedAccount;

  beforeAll(async () => {
    const pages = await connect(facebook, 'facebook');
    page = pages.find((p) => p.platformAccountId === '100000000000001')!;
  });

  it('publishes a vertical clip as a reel: the bytes reach the rupload host whole, then it is listed among the Page’s reels', async () => {
    const clip = await vertical('reel-1');
    const before = graph.requests.length;
    const draft: Partial<PostDraft> = { caption: 'Our first reel', media: [clip] };
    const result = await facebook.publish(publishRequest({ account: ref(page), tokens: page.tokens, draft, media }));
    expect(result).toMatchObject({ kind: 'published', permalink: expect.stringMatching(/^https:\/\/www\.facebook\.com\/reel\/\d+$/) });
    const reel = graph.published.at(-1);
    expect(reel).toMatchObject({ platform: 'facebook', kind: 'reel', caption: 'Our first reel' });
    expect(reel?.media[0]).toMatchObject({ bytes: clip.sizeBytes, sha256: clip.sha256, type: 'video/mp4' });
    const paths = graph.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths.filter((p) => p.startsWith('POST /rupload/'))).toHaveLength(1);
    if (result.kind !== 'published') throw new Error('not published');
    expect(
      await facebook.verify!({
        account: ref(page),
        tokens: page.tokens,
        text: 'Our first reel',
        mediaCount: 1,
        committedAt: new Date(),
        platformId: result.platformPostId,
      }),
    ).toMatchObject({ kind: 'live', platformPostId: result.platformPostId });
  });

  it('the rupload host enforces its headers: the OAuth page token, offset 0, and a file_size matching the bytes', async () => {
    const start = await fetch(`${graph.graphApiUrl}/100000000000001/video_reels`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        upload_phase: 'start',
        access_token: page.tokens.accessToken,
        appsecret_proof: appSecretProof(page.tokens.accessToken, graph.options.appSecret),
      }),
    });
    const { upload_url: uploadUrl } = (await start.json()) as { upload_url: string };
    const send = (headers: Record<string, string>) =>
      fetch(uploadUrl, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body: Buffer.alloc(100, 1) });
    const auth = { authorization: `OAuth ${page.tokens.accessToken}` };
    expect((await send({ offset: '0', file_size: '100' })).status).toBe(401);
    expect(await (await send({ ...auth, file_size: '100' })).json()).toMatchObject({ debug_info: { message: /offset and file_size/ } });
    expect(await (await send({ ...auth, offset: '0', file_size: '99' })).json()).toMatchObject({
      debug_info: { message: /file_size says 99/ },
    });
    expect(await (await send({ ...auth, offset: '0', file_size: '100' })).json()).toEqual({ success: true });
  });

  it('a Page at its daily reels limit is told to try later (retryable), nothing published', async () => {
    await facebook.publish(
      publishRequest({ account: ref(page), tokens: page.tokens, draft: { caption: 'Second', media: [await vertical('reel-2')] }, media }),
    );
    const count = graph.published.length;
    const result = await facebook.publish(
      publishRequest({ account: ref(page), tokens: page.tokens, draft: { caption: 'Third', media: [await vertical('reel-3')] }, media }),
    );
    expect(result).toMatchObject({
      kind: 'failed',
      failure: { class: 'retryable', message: expect.stringContaining('30 reels per Page per 24 hours') },
    });
    expect(graph.published.length).toBe(count);
  });
});
