/**
 * The LinkedIn publisher against the LinkedIn simulator (a real loopback server that enforces
 * the wire rules): connect through the consent page with Pages ticked, every publish kind as a
 * member and as a Page, the escaping and the 3,000 limit as LinkedIn applies them, a sunset
 * version, processing failures, verify, the health check, refresh and revoke.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createLinkedinPublisher } from '../../../src/publishers/linkedin/index.js';
import type { AccountRef, GrantedAccount, Publisher } from '../../../src/publishers/publisher.js';
import { TokenRefreshError } from '../../../src/publishers/publisher.js';
import { LinkedinSimulator, type LinkedinSimulatorOptions } from '../../../src/simulators/linkedin.js';
import { useMediaDir } from '../../helpers/media.js';
import { newLog, publishRequest as sharedPublishRequest } from '../../helpers/publish-request.js';
import { addVideoBytes } from '../../helpers/media.js';
import { jpegFile, pngFile, videoFile } from './linkedin-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/linkedin/callback';
const dir = useMediaDir('iqsp-linkedin-sim-');
let sim: LinkedinSimulator;

async function start(options: Partial<LinkedinSimulatorOptions> = {}): Promise<void> {
  await sim?.close();
  sim = await new LinkedinSimulator({ videoPartBytes: 64 * 1024, ...options }).start();
}

beforeEach(() => start());
afterEach(() => sim.close());

function publisher(apiVersion = sim.options.apiVersion): Publisher {
  return createLinkedinPublisher({
    clientId: sim.options.clientId,
    clientSecret: sim.options.clientSecret,
    apiUrl: sim.url,
    authorizeUrl: sim.authorizeUrl,
    tokenUrl: sim.tokenUrl,
    apiVersion,
    pollIntervalMs: 1,
    maxWaitMs: 5_000,
  });
}

async function connect(choice: { account?: string; pages?: string[] } = {}): Promise<GrantedAccount[]> {
  const p = publisher();
  const callback = new URL(await sim.approveConsent(p.consentUrl({ state: 'st-1', redirectUri: REDIRECT }), choice));
  expect(callback.searchParams.get('state')).toBe('st-1');
  return p.finishConnect({
    code: callback.searchParams.get('code') ?? '',
    redirectUri: REDIRECT,
    query: Object.fromEntries(callback.searchParams),
  });
}

function request(account: GrantedAccount, caption: string, files: MediaInfo[] = []) {
  const log = newLog();
  return {
    log,
    request: sharedPublishRequest({ account, tokens: account.tokens, draft: { caption, media: files }, media: dir.media, log }),
  };
}

describe('LinkedIn against its simulator', () => {
  it('connects the member and the Pages ticked on the consent page where the role may post', async () => {
    const accounts = await connect({ pages: ['2414183', '7700001'] });
    // 7700001 was ticked, but an ANALYST may not post; 5591022 was not ticked.
    expect(accounts.map((a) => [a.platformAccountId, a.displayName, a.handle])).toEqual([
      ['urn:li:person:yrZCpj2ZYQ', 'Ada Okafor', undefined],
      ['urn:li:organization:2414183', 'Acme Inc', 'acme'],
    ]);
    expect(accounts[0]!.tokens.refreshToken).toBeUndefined();
    expect(accounts[0]!.tokens.scopes).toBe(
      'openid profile w_member_social w_organization_social r_organization_social rw_organization_admin',
    );
  });

  it('refuses a consent for a scope the app has no product for', async () => {
    await start({ appScopes: ['openid', 'profile', 'w_member_social'] });
    const page = await fetch(publisher().consentUrl({ state: 's', redirectUri: REDIRECT }), { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location') ?? '').searchParams.get('error')).toBe('unauthorized_scope_error');
  });

  it('publishes text with reserved characters escaped, and refuses what LinkedIn refuses', async () => {
    const [member] = await connect();
    const text = 'Launch (v2) #ship @team [beta] <b> *bold* _under_ ~strike~ {x} a|b back\\slash';
    const { request: ok, log } = request(member!, text);
    const result = await publisher().publish(ok);
    expect(result).toMatchObject({ kind: 'published', permalink: `https://www.linkedin.com/feed/update/${sim.published[0]!.urn}/` });
    expect(sim.published[0]).toMatchObject({ text, author: 'urn:li:person:yrZCpj2ZYQ', media: [] });
    expect(log.events).toEqual(['beforeCommit']);

    // Past validate: LinkedIn itself refuses 3,001 characters.
    const long = await publisher().publish(request(member!, 'a'.repeat(3_001)).request);
    expect(long).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'linkedin:FIELD_LENGTH_TOO_LONG' } });
    const exact = await publisher().publish(request(member!, '('.repeat(3_000)).request);
    expect(exact.kind).toBe('published');
  });

  it('posts several images to a Page (one PUT each) and a video in ordered ranges to the member', async () => {
    const [member, page] = await connect();
    const images = [
      await pngFile(dir.media, dir.workDir),
      await jpegFile(dir.media, dir.workDir),
      await pngFile(dir.media, dir.workDir, 'img-3'),
    ];
    const { request: multi } = request(page!, 'Three', images);
    expect(await publisher().publish(multi)).toMatchObject({ kind: 'published' });
    const post = sim.published.at(-1)!;
    expect(post.media.map((m) => m.kind)).toEqual(['image', 'image', 'image']);
    expect(post.media[1]!.sha256).toBe(images[1]!.sha256);
    expect([...sim.media.images.values()].map((i) => i.puts)).toEqual([1, 1, 1]);

    const video = await videoFile(dir.media, dir.workDir, 200_000);
    const { request: film, log } = request(member!, 'Film', [video]);
    expect(await publisher().publish(film)).toMatchObject({ kind: 'published' });
    const posted = sim.published.at(-1)!;
    expect(posted.media).toEqual([expect.objectContaining({ kind: 'video', bytes: 200_000 })]);
    expect(posted.media[0]!.partSha256).toHaveLength(4);
    expect(log.progress.filter((p) => p.phase === 'uploading').map((p) => p.bytesSent)).toEqual([65_536, 131_072, 196_608, 200_000]);
    expect(log.progress.some((p) => p.phase === 'processing')).toBe(true);
    const bytes = await readFile(`${dir.workDir}/vid-1.mp4`);
    expect(bytes.length).toBe(200_000);
  });

  it('reports a video LinkedIn cannot process as the file’s problem, with nothing posted', async () => {
    const [member] = await connect();
    const notMp4 = await addVideoBytes(dir, 'bad', Buffer.alloc(100_000, 7), { durationMs: 5_000, originalName: 'bad.mp4' });
    const result = await publisher().publish(request(member!, 'Broken', [notMp4]).request);
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        message:
          'LinkedIn could not process bad.mp4 (Invalid video file: the file is not an MP4 video); change the file before posting again.',
        platformCode: 'linkedin:PROCESSING_FAILED',
      },
    });
    expect(sim.published).toHaveLength(0);
  });

  it('names LINKEDIN_API_VERSION when LinkedIn has sunset the version, and never retries it', async () => {
    const [member] = await connect();
    sim.sunsetVersion(sim.options.apiVersion);
    const result = await publisher().publish(request(member!, 'Hello').request);
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'linkedin:426' } });
    expect(result.kind === 'failed' && result.failure.message).toContain('LINKEDIN_API_VERSION');
    expect(result.kind === 'failed' && result.failure.message).toContain('Requested version 20260701 is not active');
    expect(sim.published).toHaveLength(0);
  });

  it('enforces the version and Rest.li headers on every /rest call', async () => {
    const [member] = await connect();
    const auth = { Authorization: `Bearer ${member!.tokens.accessToken}` };
    const missing = await fetch(`${sim.url}/rest/organizations/2414183`, { headers: { ...auth, 'X-Restli-Protocol-Version': '2.0.0' } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ status: 400, code: 'VERSION_MISSING' });
    const old = await fetch(`${sim.url}/rest/organizations/2414183`, {
      headers: { ...auth, 'LinkedIn-Version': '202508', 'X-Restli-Protocol-Version': '2.0.0' },
    });
    expect(old.status).toBe(426);
    expect(await old.json()).toEqual({ status: 426, code: 'NONEXISTENT_VERSION', message: 'Requested version 20250801 is not active' });
    const noRestli = await fetch(`${sim.url}/rest/organizations/2414183`, { headers: { ...auth, 'LinkedIn-Version': '202607' } });
    expect(noRestli.status).toBe(400);
  });

  it('refuses video parts out of order, of the wrong size, and a finalize without every ETag in order', async () => {
    const [, page] = await connect();
    const headers = {
      Authorization: `Bearer ${page!.tokens.accessToken}`,
      'LinkedIn-Version': '202607',
      'X-Restli-Protocol-Version': '2.0.0',
      'Content-Type': 'application/json',
    };
    const init = await fetch(`${sim.url}/rest/videos?action=initializeUpload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        initializeUploadRequest: { owner: page!.platformAccountId, fileSizeBytes: 100_000, uploadCaptions: false, uploadThumbnail: false },
      }),
    });
    const { value } = (await init.json()) as {
      value: { video: string; uploadToken: string; uploadInstructions: Array<{ uploadUrl: string; firstByte: number; lastByte: number }> };
    };
    expect(value.uploadInstructions.map((i) => [i.firstByte, i.lastByte])).toEqual([
      [0, 65_535],
      [65_536, 99_999],
    ]);
    const put = (index: number, size: number) =>
      fetch(value.uploadInstructions[index]!.uploadUrl, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.alloc(size),
      });
    expect((await put(1, 34_464)).status).toBe(400);
    expect((await put(0, 1_000)).status).toBe(400);
    const first = await put(0, 65_536);
    expect(first.status).toBe(200);
    const second = await put(1, 34_464);
    const etags = [first.headers.get('etag'), second.headers.get('etag')];
    const finalize = (ids: unknown[]) =>
      fetch(`${sim.url}/rest/videos?action=finalizeUpload`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ finalizeUploadRequest: { video: value.video, uploadToken: value.uploadToken, uploadedPartIds: ids } }),
      });
    expect((await finalize([...etags].reverse())).status).toBe(400);
    expect((await finalize(etags)).status).toBe(200);
  });

  it('verifies a Page’s post by reading its posts; a member’s cannot be read', async () => {
    const [member, page] = await connect();
    const committedAt = new Date();
    await publisher().publish(request(page!, 'Quarterly (Q3) results #growth').request);
    const account: AccountRef = page!;
    const live = await publisher().verify!({
      account,
      tokens: page!.tokens,
      text: 'Quarterly (Q3) results #growth',
      mediaCount: 0,
      committedAt,
    });
    expect(live).toEqual({ kind: 'live', platformPostId: sim.published[0]!.urn, permalink: sim.published[0]!.permalink });
    const absent = await publisher().verify!({ account, tokens: page!.tokens, text: 'Never sent', mediaCount: 0, committedAt });
    expect(absent.kind).toBe('absent');
    const known = await publisher().verify!({
      account,
      tokens: page!.tokens,
      text: 'Quarterly (Q3) results #growth',
      mediaCount: 0,
      committedAt,
      knownIds: [sim.published[0]!.urn],
    });
    expect(known.kind).toBe('absent');
    const memberAnswer = await publisher().verify!({ account: member!, tokens: member!.tokens, text: 'x', mediaCount: 0, committedAt });
    expect(memberAnswer).toEqual({
      kind: 'unknown',
      reason: "LinkedIn does not let apps read a member's posts; check the LinkedIn profile",
    });
  });

  it('checks the authorization with /v2/userinfo, and revoking ends the whole grant', async () => {
    const [member, page] = await connect();
    expect(await publisher().checkAuthorization(member!, member!.tokens)).toEqual({ kind: 'ok' });
    await publisher().revoke(page!, page!.tokens);
    expect(sim.memberGrantLive('yrZCpj2ZYQ')).toBe(false);
    const check = await publisher().checkAuthorization(member!, member!.tokens);
    expect(check).toEqual({ kind: 'refused', reason: 'LinkedIn says this connection was revoked; connect the LinkedIn account again.' });
    const result = await publisher().publish(request(page!, 'After revoke').request);
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'reconnect', tokenExpired: false, platformCode: 'linkedin:65601' } });
  });

  it('refreshes only where LinkedIn gave a refresh token, and keeps its first expiry', async () => {
    const [member] = await connect();
    await expect(publisher().refresh(member!.tokens)).rejects.toThrow(
      new TokenRefreshError(
        'LinkedIn access lasts 60 days and LinkedIn gives this app no refresh token; connect the LinkedIn account again to keep posting.',
        true,
      ),
    );
    await start({ refreshTokens: true });
    const [partner] = await connect();
    expect(partner!.tokens.refreshToken).toBeDefined();
    const first = partner!.tokens.refreshExpiresAt!.getTime();
    const fresh = await publisher().refresh(partner!.tokens);
    expect(fresh.accessToken).not.toBe(partner!.tokens.accessToken);
    expect(Math.abs(fresh.refreshExpiresAt!.getTime() - first)).toBeLessThan(2_000);
    expect(await publisher().checkAuthorization(partner!, fresh)).toEqual({ kind: 'ok' });
    // The refresh token used is spent.
    await expect(publisher().refresh(partner!.tokens)).rejects.toMatchObject({ permanent: true });
  });

  it('answers 429 past the daily cap, retryable after midnight UTC', async () => {
    await start({ dailyPostCap: 1 });
    const [member] = await connect();
    expect((await publisher().publish(request(member!, 'one').request)).kind).toBe('published');
    const second = await publisher().publish(request(member!, 'two').request);
    expect(second).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'linkedin:429' } });
    const wait = second.kind === 'failed' ? (second.failure.retryAfterMs ?? 0) : 0;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(24 * 3_600_000);
  });
});
