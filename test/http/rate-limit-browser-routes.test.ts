/**
 * Issue 13, finding 11 (rate limits): `/connect` and `/oauth/*` answer 429 with `Retry-After` to
 * a client that floods them, counted per client IP; a forged `X-Forwarded-For` does not give a
 * client fresh counts unless TRUST_PROXY says a proxy sets it. Time is the app's clock, moved by
 * the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BROWSER_ROUTE_LIMIT } from '../../src/http/limits.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A clock that stands still until the test moves it. */
function testClock() {
  let at = Date.now();
  return { now: () => new Date(at), advance: (ms: number) => void (at += ms) };
}

async function flood(url: string, times: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const response = await fetch(url, { redirect: 'manual', headers: headers(i) });
    await response.body?.cancel();
    statuses.push(response.status);
  }
  return statuses;
}

describe('browser route rate limits', () => {
  it('answers 429 with Retry-After on /connect past the limit, and again serves once the window has passed', async () => {
    const clock = testClock();
    h = await startHarness({ app: { now: clock.now } });
    const { limit } = BROWSER_ROUTE_LIMIT;
    const statuses = await flood(`${h.base}/connect/not-a-real-token`, limit);
    expect(statuses.every((s) => s === 400 || s === 404)).toBe(true);

    clock.advance(20_000);
    const limited = await fetch(`${h.base}/connect/not-a-real-token`, { redirect: 'manual' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('40');
    expect(((await limited.json()) as { error: string }).error).toMatch(/at most 60 a minute\); try again in 40 seconds/);

    // A real link works again once the window is over.
    clock.advance(40_000);
    const reply = await h.run('U_ADA', 'connect x');
    const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)![1]!;
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(302);
  });

  it('limits /oauth/* callbacks on their own, and a forged X-Forwarded-For does not reset the count', async () => {
    const clock = testClock();
    h = await startHarness({ app: { now: clock.now } });
    const statuses = await flood(`${h.base}/oauth/x/callback?state=forged&code=c`, BROWSER_ROUTE_LIMIT.limit + 5, (i) => ({
      'x-forwarded-for': `203.0.113.${i}`,
    }));
    expect(statuses.slice(0, BROWSER_ROUTE_LIMIT.limit).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(BROWSER_ROUTE_LIMIT.limit)).toEqual([429, 429, 429, 429, 429]);
    // /connect keeps counts of its own.
    expect((await fetch(`${h.base}/connect/not-a-real-token`, { redirect: 'manual' })).status).not.toBe(429);
  });

  it('with TRUST_PROXY, counts each forwarded client address on its own', async () => {
    const clock = testClock();
    h = await startHarness({ app: { now: clock.now }, env: { TRUST_PROXY: 'true' } });
    const one = await flood(`${h.base}/oauth/x/callback?state=forged`, BROWSER_ROUTE_LIMIT.limit + 1, () => ({
      'x-forwarded-for': '198.51.100.7',
    }));
    expect(one.at(-1)).toBe(429);
    const other = await fetch(`${h.base}/oauth/x/callback?state=forged`, { headers: { 'x-forwarded-for': '198.51.100.8' } });
    expect(other.status).toBe(400);
  });

  it('with TRUST_PROXY, counts the address the proxy added, not the ones the client wrote before it', async () => {
    const clock = testClock();
    h = await startHarness({ app: { now: clock.now }, env: { TRUST_PROXY: 'true' } });
    // A proxy appends the address it saw to whatever X-Forwarded-For the client sent.
    const statuses = await flood(`${h.base}/connect/not-a-real-token`, BROWSER_ROUTE_LIMIT.limit + 1, (i) => ({
      'x-forwarded-for': `203.0.113.${i}, 198.51.100.7`,
    }));
    expect(statuses.at(-1)).toBe(429);
  });
});
