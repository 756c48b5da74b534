/**
 * The YouTube publisher against the YouTube simulator over loopback HTTP: the consent page
 * (PKCE checked at the token endpoint), connect, non-rotating refresh, revoke, and the resumable
 * upload with the simulator enforcing the protocol (256 KiB multiples, Content-Range continuity,
 * 308 + Range, fewer bytes kept, the status probe, an expired session, a lost final answer),
 * quota faults, processing outcomes, verify and the authorization check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../src/media/media.js';
import { ConnectError, type GrantedAccount, type Publisher, type PublishRequest } from '../../src/publishers/publisher.js';
import { createYoutubePublisher } from '../../src/publishers/youtube/index.js';
import { YoutubeSimulator } from '../../src/simulators/youtube.js';
import { addVideoBytes, useMediaDir } from '../helpers/media.js';
import { newLog, publishRequest as sharedPublishRequest, type PublishLog } from '../helpers/publish-request.js';

const REDIRECT = 'https://iqsp.test/oauth/youtube/callback';
const GRANULE = 256 * 1024;

let sim: YoutubeSimulator;
let publisher: Publisher;
const ctx = useMediaDir('iqsp-youtube-sim-');

beforeAll(async () => {
  sim = await new YoutubeSimulator({ processingPolls: 1 }).start();
  publisher = createYoutubePublisher({
    clientId: sim.options.clientId,
    clientSecret: sim.options.clientSecret,
    apiUrl: sim.url,
    authorizeUrl: sim.authorizeUrl,
    tokenUrl: sim.tokenUrl,
    chunkBytes: GRANULE,
    pollIntervalMs: 1,
    maxWaitMs: 2_000,
    retryDelayMs: 1,
  });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.faults.length = 0;
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function connect(choice?: { account?: string; scopes?: string[] }, verifierOverride?: string): Promise<GrantedAccount> {
  const { verifier, challenge } = pkce();
  const url = publisher.consentUrl({ state: 'st', redirectUri: REDIRECT, codeChallenge: challenge });
  const callback = new URL(await sim.approveConsent(url, choice));
  const query = Object.fromEntries(callback.searchParams);
  expect(query.state).toBe('st');
  const [account] = await publisher.finishConnect({
    code: query.code ?? '',
    redirectUri: REDIRECT,
    codeVerifier: verifierOverride ?? verifier,
    query,
  });
  return account!;
}

async function video(id: string, size: number, info: Partial<MediaInfo> = {}): Promise<{ media: MediaInfo; bytes: Buffer }> {
  const bytes = randomBytes(size);
  return { media: await addVideoBytes(ctx, id, bytes, { width: 1080, height: 1920, durationMs: 20_000, ...info }), bytes };
}

function request(
  account: GrantedAccount,
  media: MediaInfo,
  caption: string,
  log?: PublishLog,
  privacy?: string,
): PublishRequest & { refs: string[] } {
  const refs: string[] = [];
  const base = sharedPublishRequest({
    account: { platformAccountId: account.platformAccountId, handle: account.handle, displayName: account.displayName },
    tokens: account.tokens,
    draft: { caption, media: [media], options: privacy ? { privacy } : {} },
    media: ctx.media,
    log,
    commitEvent: 'commit',
  });
  return { ...base, refs, onPlatformRef: async (ref) => void refs.push(ref) };
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('YouTube simulator', () => {
  it('serves a consent page whose Allow redirects with a code, and connects the channel', async () => {
    const { challenge } = pkce();
    const page = await (await fetch(publisher.consentUrl({ state: 'html', redirectUri: REDIRECT, codeChallenge: challenge }))).text();
    expect(page).toContain('studio@acme.example (Acme Inc)');
    const account = await connect();
    expect(account).toMatchObject({ platformAccountId: 'UCacmeChannel00000000001', handle: 'acme', displayName: 'Acme Inc' });
    expect(account.tokens.refreshToken).toMatch(/^1\/\/0g/);
  });

  it('checks the PKCE verifier, and says when the Google account has no channel', async () => {
    await expect(connect(undefined, 'a'.repeat(43))).rejects.toThrow(
      'Google refused the sign-in code (invalid_grant: Invalid code verifier.)',
    );
    await expect(connect({ account: '110000000000000000002' })).rejects.toThrow(/^The Google account has no YouTube channel/);
    await expect(connect({ scopes: ['https://www.googleapis.com/auth/youtube.readonly'] })).rejects.toBeInstanceOf(ConnectError);
  });

  it('refreshes without rotating, and revoking ends the grant', async () => {
    const account = await connect();
    const fresh = await publisher.refresh(account.tokens);
    expect(fresh.refreshToken).toBe(account.tokens.refreshToken);
    expect(fresh.accessToken).not.toBe(account.tokens.accessToken);
    await publisher.revoke(account, fresh);
    await expect(publisher.refresh(fresh)).rejects.toMatchObject({ permanent: true });
    expect(await publisher.checkAuthorization(account, fresh)).toMatchObject({ kind: 'refused' });
  });

  it('uploads in 256 KiB ranges; the simulator stores every byte once, in order', async () => {
    const account = await connect();
    const { media, bytes } = await video('a', 3 * GRANULE + 77);
    const log = newLog();
    const req = request(account, media, 'Launch day\nFirst video', log, 'unlisted');
    const result = await publisher.publish(req);
    expect(result).toMatchObject({ kind: 'published', permalink: expect.stringMatching(/^https:\/\/www\.youtube\.com\/shorts\//) });
    const stored = sim.published.at(-1)!;
    expect(stored).toMatchObject({ title: 'Launch day', description: 'First video', privacyStatus: 'unlisted', bytes: bytes.length });
    expect(stored.chunks.map((c) => [c.start, c.end, c.sha256])).toEqual(
      [0, 1, 2, 3].map((i) => {
        const end = Math.min((i + 1) * GRANULE, bytes.length) - 1;
        return [i * GRANULE, end, sha(bytes.subarray(i * GRANULE, end + 1))];
      }),
    );
    expect(req.refs).toEqual([stored.videoId]);
    expect(log.events).toEqual(['commit']);
  });

  it('refuses a range that breaks the protocol, in Google’s error shape', async () => {
    const account = await connect();
    const start = await fetch(`${sim.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${account.tokens.accessToken}`,
        'Content-Type': 'application/json; charset=UTF-8',
        'X-Upload-Content-Length': String(2 * GRANULE),
        'X-Upload-Content-Type': 'video/mp4',
      },
      body: JSON.stringify({ snippet: { title: 'T' }, status: { privacyStatus: 'private' } }),
    });
    const session = start.headers.get('location')!;
    const put = (range: string, body: Buffer) =>
      fetch(session, { method: 'PUT', headers: { 'Content-Range': range, 'Content-Type': 'video/mp4' }, body: new Uint8Array(body) });
    const notMultiple = await put(`bytes 0-999/${2 * GRANULE}`, Buffer.alloc(1000));
    expect(notMultiple.status).toBe(400);
    expect(await notMultiple.json()).toMatchObject({ error: { code: 400, errors: [{ reason: 'badRequest' }] } });
    const gap = await put(`bytes ${GRANULE}-${2 * GRANULE - 1}/${2 * GRANULE}`, Buffer.alloc(GRANULE));
    expect(gap.status).toBe(400);
    const first = await put(`bytes 0-${GRANULE - 1}/${2 * GRANULE}`, Buffer.alloc(GRANULE));
    expect([first.status, first.headers.get('range')]).toEqual([308, `bytes=0-${GRANULE - 1}`]);
    const probe = await fetch(session, { method: 'PUT', headers: { 'Content-Range': `bytes */${2 * GRANULE}` } });
    expect([probe.status, probe.headers.get('range')]).toEqual([308, `bytes=0-${GRANULE - 1}`]);
    sim.expireUploadSessions();
    expect((await fetch(session, { method: 'PUT', headers: { 'Content-Range': `bytes */${2 * GRANULE}` } })).status).toBe(404);
  });

  it('resumes where the simulator says when it keeps fewer bytes than were sent', async () => {
    const account = await connect();
    const { media, bytes } = await video('b', 2 * GRANULE + 5);
    sim.keepFewerOnNextRequest(GRANULE / 2); // rounds down to nothing kept
    const before = sim.published.length;
    expect(await publisher.publish(request(account, media, 'Kept fewer'))).toMatchObject({ kind: 'published' });
    expect(sim.published.length).toBe(before + 1);
    expect(sim.published.at(-1)!.bytes).toBe(bytes.length);
    const puts = sim.requests.filter((r) => r.method === 'PUT').slice(-4);
    expect(puts.map((r) => r.headers['content-range'])).toEqual([
      `bytes 0-${GRANULE - 1}/${bytes.length}`,
      `bytes 0-${GRANULE - 1}/${bytes.length}`,
      `bytes ${GRANULE}-${2 * GRANULE - 1}/${bytes.length}`,
      `bytes ${2 * GRANULE}-${bytes.length - 1}/${bytes.length}`,
    ]);
  });

  it('a 503 mid-upload is probed and resumed; a lost answer to the last bytes is recovered without a second video', async () => {
    const account = await connect();
    const { media } = await video('c', 2 * GRANULE + 9);
    sim.faults.push({ match: (method) => method === 'PUT', kind: 'status', status: 503 });
    const before = sim.published.length;
    const probesBefore = sim.requests.filter((r) => r.headers['content-range']?.startsWith('bytes */')).length;
    expect(await publisher.publish(request(account, media, 'After a 503'))).toMatchObject({ kind: 'published' });
    expect(sim.requests.filter((r) => r.headers['content-range']?.startsWith('bytes */')).length).toBe(probesBefore + 1);
    // The last range is stored, but the connection drops before its answer: the probe answers the video.
    const { media: other } = await video('d', GRANULE + 3);
    let puts = 0;
    sim.faults.push({ match: (method) => method === 'PUT' && (puts += 1) === 2, kind: 'reset', process: true });
    expect(await publisher.publish(request(account, other, 'Lost answer'))).toMatchObject({ kind: 'published' });
    expect(sim.published.length).toBe(before + 2);
    expect(sim.published.filter((v) => v.title === 'Lost answer')).toHaveLength(1);
  });

  it('quota: videos.insert past the daily calls is quotaExceeded, retryable after midnight Pacific Time', async () => {
    const quotaSim = await new YoutubeSimulator({ dailyUploads: 0 }).start();
    try {
      const p = createYoutubePublisher({
        clientId: quotaSim.options.clientId,
        clientSecret: quotaSim.options.clientSecret,
        apiUrl: quotaSim.url,
        authorizeUrl: quotaSim.authorizeUrl,
        tokenUrl: quotaSim.tokenUrl,
      });
      const { verifier, challenge } = pkce();
      const callback = new URL(
        await quotaSim.approveConsent(p.consentUrl({ state: 's', redirectUri: REDIRECT, codeChallenge: challenge })),
      );
      const [account] = await p.finishConnect({
        code: callback.searchParams.get('code')!,
        redirectUri: REDIRECT,
        codeVerifier: verifier,
        query: Object.fromEntries(callback.searchParams),
      });
      const { media } = await video('q', 1000);
      const result = await p.publish(request(account!, media, 'Over quota'));
      expect(result).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'youtube:quotaExceeded' } });
      expect(JSON.stringify(result)).toContain('midnight Pacific Time');
    } finally {
      await quotaSim.close();
    }
  });

  it('reports a video the simulator fails in processing, and verify finds videos by id and by title', async () => {
    const account = await connect();
    const { media } = await video('e', 1000);
    sim.nextUploadOutcome({ uploadStatus: 'failed', failureReason: 'codec' });
    const failed = request(account, media, 'Bad codec');
    expect(await publisher.publish(failed)).toMatchObject({
      kind: 'failed',
      failure: { class: 'content', platformCode: 'youtube:failed:codec' },
    });
    expect(
      await publisher.verify!({
        account,
        tokens: account.tokens,
        text: 'Bad codec',
        mediaCount: 1,
        committedAt: new Date(),
        platformId: failed.refs[0],
      }),
    ).toMatchObject({
      kind: 'absent',
    });
    const good = request(account, (await video('f', 1000)).media, 'Found by title\nbody');
    const committedAt = new Date();
    const published = await publisher.publish(good);
    expect(published.kind).toBe('published');
    const id = published.kind === 'published' ? published.platformPostId : '';
    expect(await publisher.verify!({ account, tokens: account.tokens, text: 'Found by title\nbody', mediaCount: 1, committedAt })).toEqual({
      kind: 'live',
      platformPostId: id,
      permalink: `https://www.youtube.com/watch?v=${id}`,
    });
    expect(await publisher.checkAuthorization(account, account.tokens)).toEqual({ kind: 'ok' });
  });
});
