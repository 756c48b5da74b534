/**
 * The platform side of the end-to-end tests: the simulators tuned for speed, what they
 * published, what they were asked, the tokens they issued, and the browser half of a
 * connect (link → consent → callback).
 */
import sharp from 'sharp';
import { expect } from 'vitest';
import { startSimulators, type ConsentChoice, type RecordedRequest, type Simulators } from '../../src/simulators/index.js';
import { Browser } from '../helpers/browser.js';

export type PlatformName = 'x' | 'facebook' | 'instagram' | 'tiktok';

/** Meta's dialog ticks every Page by default; IQSP's accounts here are the one Page "Acme Inc" and its Instagram. */
export const ONE_PAGE: ConsentChoice = { pages: ['100000000000001'] };
/** The second X account of the simulator, for a second person. */
export const X_SUPPORT_ACCOUNT = '1500000000000000002';

/**
 * The simulators, with processing finished on the first status read: the child's publishers
 * poll at production intervals (Meta 5 s, TikTok 3 s, X check_after_secs), so a second read
 * would cost seconds. Images only: X processes them synchronously.
 */
export function startFastSimulators(): Promise<Simulators> {
  return startSimulators({
    graph: { containerPolls: { image: 0, video: 0, carousel: 0 }, videoPolls: 0 },
    x: { mediaProcessing: { checkAfterSecs: 1, inProgressPolls: 0 } },
    tiktok: { processingPolls: 0, moderationPolls: 0 },
  });
}

/** Posts live on each platform so far. */
export function publishedCounts(sims: Simulators): Record<PlatformName, number> {
  return {
    x: sims.x.published.length,
    facebook: sims.graph.published.filter((p) => p.platform === 'facebook').length,
    instagram: sims.graph.published.filter((p) => p.platform === 'instagram').length,
    tiktok: sims.tiktok.published.length,
  };
}

/** `after - before`, per platform. */
export function difference(after: Record<PlatformName, number>, before: Record<PlatformName, number>): Record<PlatformName, number> {
  return {
    x: after.x - before.x,
    facebook: after.facebook - before.facebook,
    instagram: after.instagram - before.instagram,
    tiktok: after.tiktok - before.tiktok,
  };
}

const X_PUBLISHING = /^\/2\/(tweets|media\/upload)/;
const GRAPH_PUBLISHING = /\/(feed|photos|videos|video_reels|media|media_publish)$/;
const TIKTOK_PUBLISHING = /^\/(v2\/post\/publish\/(video|content)\/init|video)\/?$/;

/** Requests that upload or publish something (not OAuth, profile or creator_info reads). */
export function publishingRequests(sims: Simulators): RecordedRequest[] {
  return [
    ...sims.x.requests.filter((r) => r.method === 'POST' && X_PUBLISHING.test(r.path)),
    ...sims.graph.requests.filter((r) => r.method === 'POST' && GRAPH_PUBLISHING.test(r.path)),
    ...sims.tiktok.requests.filter((r) => (r.method === 'POST' || r.method === 'PUT') && TIKTOK_PUBLISHING.test(r.path)),
  ];
}

export function requestsTo(sims: Simulators, platform: 'x' | 'graph' | 'tiktok', method: string, path: RegExp): RecordedRequest[] {
  return sims[platform].requests.filter((r) => r.method === method && path.test(r.path));
}

/**
 * Every access and refresh token the simulators have issued so far. The simulators keep them
 * in private maps (no accessor yet), read here through a narrow cast.
 */
export function issuedTokens(sims: Simulators): string[] {
  const keys = (map: unknown): string[] => (map instanceof Map ? [...map.keys()].filter((k): k is string => typeof k === 'string') : []);
  const x = sims.x as unknown as { accessTokens: unknown; refreshTokens: unknown };
  const tiktok = sims.tiktok as unknown as { accessTokens: unknown; refreshTokens: unknown };
  const graph = sims.graph as unknown as { world: { tokens: unknown } };
  const tokens = [
    ...keys(x.accessTokens),
    ...keys(x.refreshTokens),
    ...keys(tiktok.accessTokens),
    ...keys(tiktok.refreshTokens),
    ...keys(graph.world.tokens),
  ];
  if (tokens.length === 0) throw new Error('the simulators report no issued tokens: has their token bookkeeping moved?');
  return tokens;
}

export interface ConnectOutcome {
  /** The consent page the link redirected to. */
  consentUrl: string;
  status: number;
  html: string;
}

/** The first connect link in a chat text (the private reply to `connect <platform>`). */
export function connectLinkIn(text: string): string {
  const link = /(https?:\/\/[^\s<>|]+\/connect\/[A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!link) throw new Error(`no connect link in: ${text}`);
  return link;
}

/** What a person's browser does with a connect link: follow it, Allow on the consent page, land on the callback. */
export async function followConnectLink(sims: Simulators, link: string, choice?: ConsentChoice): Promise<ConnectOutcome> {
  // One browser from the link to the callback: the sign-in is bound to it by a cookie.
  const browser = new Browser();
  const redirect = await browser.fetch(link, { redirect: 'manual' });
  if (redirect.status !== 302) throw new Error(`GET ${link} answered ${redirect.status}: ${await redirect.text()}`);
  const consentUrl = redirect.headers.get('location');
  if (!consentUrl) throw new Error(`GET ${link} redirected nowhere`);
  const callback = await sims.followConsent(consentUrl, choice);
  const page = await browser.fetch(callback);
  return { consentUrl, status: page.status, html: await page.text() };
}

/** A square PNG (Instagram's aspect ratio rules are met); `noise` makes its bytes unique. */
export function squarePng(size = 1080, noise = false): Promise<Buffer> {
  const image = noise
    ? sharp({
        create: { width: size, height: size, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
      })
    : sharp({ create: { width: size, height: size, channels: 3, background: '#1d9bd1' } });
  return image.png().toBuffer();
}

export const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300, 0x20)]);

/**
 * X answers the next tweet with 429 and its rate-limit headers, the reset 1–2 s ahead. The
 * returned check, once the post is published: said in the thread, retried once after the
 * reset, exactly one tweet.
 */
export function rateLimitNextTweet(sims: Simulators): { expectRetriedOnceAfterReset(thread: readonly string[]): void } {
  const tweets = () => requestsTo(sims, 'x', 'POST', /^\/2\/tweets$/);
  const tweetsBefore = tweets().length;
  const before = publishedCounts(sims);
  const reset = Math.floor(Date.now() / 1000) + 2;
  sims.x.faults.push({
    match: (method, path) => method === 'POST' && path === '/2/tweets',
    kind: 'status',
    status: 429,
    headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
  });
  return {
    expectRetriedOnceAfterReset(thread) {
      expect(thread).toContainEqual(expect.stringMatching(/^X @acme: X's rate limit .*; trying again in \d+ (ms|s) \(attempt 2 of 5\)\.$/));
      expect(tweets()).toHaveLength(tweetsBefore + 2);
      expect(tweets().at(-2)!.status).toBe(429);
      expect(tweets().at(-1)!.at.getTime()).toBeGreaterThanOrEqual(reset * 1000);
      expect(difference(publishedCounts(sims), before)).toEqual({ x: 1, facebook: 0, instagram: 0, tiktok: 0 });
    },
  };
}
