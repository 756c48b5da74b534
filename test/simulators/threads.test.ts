/**
 * The Threads publisher against the Threads simulator over real loopback HTTP: consent, the
 * long-lived token and its renewal on the simulator's clock, every kind of post with its media
 * fetched from a local server standing in for IQSP's /media/:token, reply chains, the wire rules
 * the simulator enforces, lost answers and verify, the daily cap, the health check.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../src/media/media.js';
import { TokenRefreshError, type GrantedAccount, type Publisher, type PublishResult } from '../../src/publishers/publisher.js';
import { createThreadsPublisher } from '../../src/publishers/threads/index.js';
import { ConsentRefused } from '../../src/simulators/consent.js';
import { ThreadsSimulator } from '../../src/simulators/threads.js';
import { FileMediaAccess } from '../helpers/file-media.js';
import { publishRequest as sharedPublishRequest } from '../helpers/publish-request.js';

const REDIRECT = 'https://iqsp.test/oauth/threads/callback';
const HOUR = 3600_000;

/** Stands in for IQSP's GET /media/:token: serves registered files by media id. */
class MediaServer {
  readonly files = new Map<string, string>();
  private readonly server: Server = createServer((req, res) => {
    const file = this.files.get(decodeURIComponent(/^\/media\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? ''));
    if (!file) return void res.writeHead(404).end('gone');
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

class ServedMedia extends FileMediaAccess {
  constructor(
    workDir: string,
    private readonly server: MediaServer,
  ) {
    super(workDir);
  }
  override async add(file: string, info: Parameters<FileMediaAccess['add']>[1]): Promise<MediaInfo> {
    const added = await super.add(file, info);
    this.server.files.set(added.id, file);
    return added;
  }
  override async publicUrl(file: MediaInfo): Promise<string> {
    return `${this.server.url}/media/${encodeURIComponent(file.id)}`;
  }
}

let sim: ThreadsSimulator;
let server: MediaServer;
let media: ServedMedia;
let workDir: string;
let threads: Publisher;
let account: GrantedAccount;

async function connect(): Promise<GrantedAccount> {
  const url = threads.consentUrl({ state: 'st', redirectUri: REDIRECT });
  const callback = new URL(await sim.approveConsent(url));
  expect(callback.hash).toBe('#_');
  expect(callback.searchParams.get('state')).toBe('st');
  const [granted] = await threads.finishConnect({ code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT, query: {} });
  return granted!;
}

function publish(caption: string, files: MediaInfo[] = [], extra: Parameters<typeof sharedPublishRequest>[0]['draft'] = {}) {
  return threads.publish(sharedPublishRequest({ account, tokens: account.tokens, draft: { caption, media: files, ...extra }, media }));
}

async function image(id: string, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<MediaInfo> {
  const file = path.join(workDir, `${id}.${format}`);
  await sharp({ create: { width: 640, height: 640, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toFile(file);
  return media.add(file, { id, kind: 'image', mimeType: `image/${format}`, width: 640, height: 640 });
}

async function video(id: string): Promise<MediaInfo> {
  const bytes = Buffer.alloc(256 * 1024, 7);
  bytes.writeUInt32BE(32, 0);
  bytes.write('ftypisom', 4, 'latin1');
  const file = path.join(workDir, `${id}.mp4`);
  await writeFile(file, bytes);
  return media.add(file, { id, kind: 'video', mimeType: 'video/mp4', durationMs: 10_000, width: 720, height: 1280 });
}

function live(result: PublishResult): { platformPostId: string; permalink: string } {
  if (result.kind !== 'published') throw new Error(`expected published, got ${JSON.stringify(result)}`);
  return result;
}

function failed(result: PublishResult) {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-threads-sim-'));
  server = new MediaServer();
  await server.start();
  media = new ServedMedia(workDir, server);
  sim = await new ThreadsSimulator({ containerPolls: { text: 0, image: 1, video: 2, carousel: 1 } }).start();
  threads = createThreadsPublisher({
    appId: sim.options.appId,
    appSecret: sim.options.appSecret,
    apiUrl: sim.apiUrl,
    authorizeUrl: sim.authorizeUrl,
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  });
});

afterAll(async () => {
  await sim?.close();
  await server?.close();
  rmSync(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  sim.clockOffsetMs = 0;
  account = await connect();
});

describe('Threads simulator: consent and tokens', () => {
  it('connects with a long-lived token and the profile', () => {
    expect(account).toMatchObject({ platformAccountId: '26000000000000001', handle: 'acme', displayName: 'Acme Inc' });
    expect(account.tokens.accessToken).toBe(account.tokens.refreshToken);
    expect(account.tokens.refreshExpiresAt!.getTime() - Date.now()).toBeGreaterThan(59 * 24 * HOUR);
  });

  it("refuses what Threads refuses: a space-separated scope list, another app's id; a denial comes back as an error", async () => {
    const good = new URL(threads.consentUrl({ state: 's', redirectUri: REDIRECT }));
    const spaced = new URL(good);
    spaced.searchParams.set('scope', 'threads_basic threads_content_publish');
    await expect(sim.approveConsent(spaced.toString())).rejects.toBeInstanceOf(ConsentRefused);
    const other = new URL(good);
    other.searchParams.set('client_id', 'another-app');
    await expect(sim.approveConsent(other.toString())).rejects.toBeInstanceOf(ConsentRefused);
    expect(new URL(await sim.denyConsent(good.toString())).searchParams.get('error')).toBe('access_denied');
  });

  it('a code works once', async () => {
    const callback = new URL(await sim.approveConsent(threads.consentUrl({ state: 's', redirectUri: REDIRECT })));
    const code = callback.searchParams.get('code') ?? '';
    await threads.finishConnect({ code, redirectUri: REDIRECT, query: {} });
    await expect(threads.finishConnect({ code, redirectUri: REDIRECT, query: {} })).rejects.toThrow(/Threads refused/);
  });

  it('renews only a token at least 24 hours old; the new one replaces the old', async () => {
    // Too young: Threads refuses, the token is kept and tried again in an hour.
    const kept = await threads.refresh(account.tokens);
    expect(kept.accessToken).toBe(account.tokens.accessToken);
    expect(kept.expiresAt!.getTime()).toBeLessThan(Date.now() + 2 * HOUR);

    sim.advanceClock(25 * HOUR);
    const fresh = await threads.refresh(account.tokens);
    expect(fresh.accessToken).not.toBe(account.tokens.accessToken);
    expect(fresh.refreshToken).toBe(fresh.accessToken);
    expect(await threads.checkAuthorization(account, fresh)).toEqual({ kind: 'ok' });
    expect(await threads.checkAuthorization(account, account.tokens)).toMatchObject({ kind: 'refused' });
  });

  it('an expired token cannot be renewed: reconnect', async () => {
    sim.expireTokens(account.platformAccountId);
    const error = await threads.refresh(account.tokens).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect((error as TokenRefreshError).permanent).toBe(true);
    expect(failed(await publish('After expiry'))).toMatchObject({ class: 'reconnect', tokenExpired: true });
  });

  it('the health check: ok, then refused once the person removes the app', async () => {
    expect(await threads.checkAuthorization(account, account.tokens)).toEqual({ kind: 'ok' });
    sim.revokeAccount(account.platformAccountId);
    expect(await threads.checkAuthorization(account, account.tokens)).toMatchObject({ kind: 'refused' });
  });
});

describe('Threads simulator: publishing', () => {
  it('publishes text, an image, a carousel and a video, with the media fetched from their URLs', async () => {
    const text = live(await publish('Just words'));
    expect(text.permalink).toMatch(/^https:\/\/www\.threads\.net\/@acme\/post\/\S+$/);
    const photo = live(await publish('A photo', [await image('p1')]));
    const album = live(await publish('Two', [await image('p2'), await image('p3', 'png')]));
    const clip = live(await publish('A clip', [await video('v1')]));
    const byId = (id: string) => sim.published.find((p) => p.id === id)!;
    expect(byId(text.platformPostId)).toMatchObject({ mediaType: 'TEXT_POST', text: 'Just words', media: [] });
    expect(byId(photo.platformPostId)).toMatchObject({ mediaType: 'IMAGE', media: [{ type: 'image/jpeg' }] });
    expect(byId(album.platformPostId).media.map((m) => m.type)).toEqual(['image/jpeg', 'image/png']);
    expect(byId(clip.platformPostId)).toMatchObject({ mediaType: 'VIDEO', media: [{ type: 'video/mp4', bytes: 256 * 1024 }] });
  });

  it('publishes a --- caption as a reply chain, the media on the first part', async () => {
    const first = live(await publish('One\n---\nTwo\n---\nThree', [await image('c1')]));
    expect(sim.chain(first.platformPostId).map((p) => [p.text, p.media.length])).toEqual([
      ['One', 1],
      ['Two', 0],
      ['Three', 0],
    ]);
  });

  it("enforces Threads' rules: 500 characters (emoji by bytes), image formats, a reply to an unknown post", async () => {
    expect(failed(await publish('👍'.repeat(126)))).toMatchObject({ class: 'content', platformCode: 'threads:100/4279009' });
    expect(failed(await publish('Web picture', [await image('w1', 'webp')]))).toMatchObject({ class: 'content' });
    const answer = await fetch(`${sim.apiUrl}/me/threads`, {
      method: 'POST',
      body: new URLSearchParams({ media_type: 'TEXT', text: 'x', reply_to_id: '1', access_token: account.tokens.accessToken }),
    });
    expect(answer.status).toBe(400);
    const item = await fetch(`${sim.apiUrl}/me/threads`, {
      method: 'POST',
      body: new URLSearchParams({
        media_type: 'IMAGE',
        image_url: 'https://x/a.jpg',
        is_carousel_item: 'true',
        text: 'no',
        access_token: account.tokens.accessToken,
      }),
    });
    expect(((await item.json()) as { error: { code: number } }).error.code).toBe(100);
  });

  it('a media URL that cannot be fetched is a content problem naming PUBLIC_URL; a failed video ends in ERROR', async () => {
    const gone = await image('gone');
    server.files.delete('gone');
    expect(failed(await publish('Gone', [gone])).message).toContain('PUBLIC_URL');
    sim.failVideoProcessing('INVALID_FRAME_RATE');
    expect(failed(await publish('Bad clip', [await video('v2')]))).toMatchObject({
      class: 'content',
      platformCode: 'threads:container:INVALID_FRAME_RATE',
    });
  });

  it('a container left 24 hours expires', async () => {
    const answer = await fetch(`${sim.apiUrl}/me/threads`, {
      method: 'POST',
      body: new URLSearchParams({ media_type: 'TEXT', text: 'later', access_token: account.tokens.accessToken }),
    });
    const { id } = (await answer.json()) as { id: string };
    sim.advanceClock(25 * HOUR);
    const status = await fetch(`${sim.apiUrl}/${id}?fields=status,error_message&access_token=${account.tokens.accessToken}`);
    expect(await status.json()).toEqual({ id, status: 'EXPIRED' });
  });

  it('a lost threads_publish answer is unknown; verify finds the post by its container; one never published is absent', async () => {
    let ref: string | undefined;
    sim.faults.push({ match: (m, p) => m === 'POST' && p.endsWith('/threads_publish'), kind: 'reset', process: true });
    const result = await threads.publish({
      ...sharedPublishRequest({ account, tokens: account.tokens, draft: { caption: 'Lost answer' }, media }),
      onPlatformRef: (r) => Promise.resolve(void (ref = r)),
    });
    expect(failed(result).class).toBe('unknown');
    const post = sim.published.at(-1)!;
    const verify = (platformId?: string, text = 'Lost answer') =>
      threads.verify!({ account, tokens: account.tokens, text, mediaCount: 0, committedAt: new Date(), platformId });
    expect(await verify(ref)).toEqual({ kind: 'live', platformPostId: post.id, permalink: post.permalink });
    expect(await verify(undefined)).toMatchObject({ kind: 'live', platformPostId: post.id });
    expect(await verify(undefined, 'Never sent')).toMatchObject({ kind: 'absent' });
  });

  it('the daily cap: refused before approval from the publishing limit, retryable at threads_publish', async () => {
    const capped = await new ThreadsSimulator({ dailyPosts: 1, containerPolls: { text: 0, image: 0, video: 0, carousel: 0 } }).start();
    try {
      const publisher = createThreadsPublisher({
        appId: capped.options.appId,
        appSecret: capped.options.appSecret,
        apiUrl: capped.apiUrl,
        authorizeUrl: capped.authorizeUrl,
        pollIntervalMs: 2,
      });
      const callback = new URL(await capped.approveConsent(publisher.consentUrl({ state: 's', redirectUri: REDIRECT })));
      const [own] = await publisher.finishConnect({ code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT, query: {} });
      const draft = { caption: 'One a day', media: [], options: {} };
      expect(await publisher.validateForAccount!(draft, own!, own!.tokens)).toEqual([]);
      live(await publisher.publish(sharedPublishRequest({ account: own!, tokens: own!.tokens, draft, media })));
      expect(await publisher.validateForAccount!(draft, own!, own!.tokens)).toEqual([
        { code: 'daily_limit', message: 'Threads allows 1 posts a day through its API; @acme has published 1 in the last 24 hours.' },
      ]);
      const second = await publisher.publish(
        sharedPublishRequest({ account: own!, tokens: own!.tokens, draft: { caption: 'Two' }, media }),
      );
      expect(failed(second)).toMatchObject({ class: 'retryable', retryAfterMs: 3_600_000 });
    } finally {
      await capped.close();
    }
  });
});
