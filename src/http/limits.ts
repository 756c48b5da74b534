/**
 * Rate limits on the browser routes a stranger can reach without any secret: `/connect/*` (a
 * connect link's token is guessed there) and `/oauth/*` (callbacks, platform callbacks). A
 * client past its limit gets 429 with `Retry-After`. Counted per client IP: Koa's `ctx.ip`,
 * which is the forwarded address only when the app trusts the proxy (TRUST_PROXY), so a
 * client cannot dodge the limit by writing its own `X-Forwarded-For`.
 *
 * Counts are kept in this process's memory (see core/rate-limit.ts): each instance limits on
 * its own.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { RateLimiter, type RateLimit, ruleInWords, waitInWords } from '../core/rate-limit.js';

/**
 * 60 requests a minute per client IP on each of `/connect` and `/oauth`: connecting an account
 * takes one of each, so a person retrying, or an office behind one address connecting several
 * accounts, stays far below it; a script guessing tokens is stopped after 60.
 */
export const BROWSER_ROUTE_LIMIT: RateLimit = { limit: 60, windowMs: 60_000 };

/** The path prefixes limited, each with counts of its own. */
const LIMITED_PREFIXES = ['/connect', '/oauth'] as const;

/** A middleware answering 429 with `Retry-After` once the client's IP has used its requests. */
export function rateLimitByIp(limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    const decision = limiter.take(ctx.ip || 'unknown');
    if (decision.kind === 'limited') {
      ctx.status = 429;
      ctx.set('Retry-After', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: `too many requests from this address (at most ${ruleInWords(limiter.rule)}); try again in ${waitInWords(decision.retryAfterMs)}`,
      };
      return;
    }
    await next();
  };
}

/**
 * Adds the limits to the router; registered before the routes they guard (router middleware
 * runs in the order it was added).
 */
export function browserRouteLimits(options: { rule?: RateLimit; now?: () => number } = {}) {
  return (router: Router): void => {
    for (const prefix of LIMITED_PREFIXES) {
      const limiter = new RateLimiter(options.rule ?? BROWSER_ROUTE_LIMIT, options.now);
      router.use(prefix, rateLimitByIp(limiter));
    }
  };
}
