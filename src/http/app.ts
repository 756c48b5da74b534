import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import type { Db } from '../db/database.js';
import { databaseAnswers } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { securityHeaders } from './security-headers.js';

/** Requests larger than this are refused with 413 before any route reads them. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Something besides the database this instance needs to take traffic (MEDIA_DIR taking files):
 * answers what is wrong, in words an operator can act on, or undefined when all is well.
 */
export type ReadinessCheck = () => Promise<string | undefined>;

export interface HttpDependencies {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** Checked by `/readyz` after the database, in order; the first problem answers 503. */
  readiness?: readonly ReadinessCheck[];
  bodyLimitBytes?: number;
  /** PUBLIC_URL: an https one adds Strict-Transport-Security to every response. */
  publicUrl?: string;
  /** TRUST_PROXY: believe `X-Forwarded-*` (client address, protocol). Default false. */
  trustProxy?: boolean;
  /** METRICS_TOKEN: `/metrics` then answers only to `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Feature modules add their routes here (OAuth, media, Slack, sandbox, ...). */
  routes?: ReadonlyArray<(router: Router) => void>;
  /**
   * Routes known only once their modules have loaded (the chat surfaces, which `serve` loads
   * after it listens): a request no other route answers waits for them, so an early Slack
   * event reaches its route rather than a 404. If they never come (a surface failed to load,
   * and the process is stopping), such a request is answered 503.
   */
  lateRoutes?: Promise<ReadonlyArray<(router: Router) => void>>;
}

export function createHttpApp(deps: HttpDependencies): Koa {
  // Without a proxy in front, X-Forwarded-For is whatever the client wrote.
  // One proxy in front: the address it appended (the last) is the client; earlier ones are the client's own words.
  const app = new Koa({ proxy: deps.trustProxy ?? false, maxIpsCount: 1 });
  const router = new Router();
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  // Errors thrown by handlers become JSON with a message a person can read; 5xx are logged
  // and never reveal internals.
  app.silent = true;
  app.use(securityHeaders(deps.publicUrl));
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = ctx.get('x-request-id') || randomUUID();
    ctx.set('x-request-id', requestId);
    try {
      await next();
    } catch (error) {
      const status = httpStatusOf(error);
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'internal error' : (error as Error).message };
      if (status >= 500) deps.logger.error({ err: error, requestId, path: redactedPath(ctx.path) }, 'request failed');
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = matched === undefined ? 'unmatched' : String(matched);
      deps.metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      // Paths carry connect and media tokens, queries OAuth codes: a matched request is logged
      // by its route template, any other by its path with token-like parts cut out, no query.
      deps.logger.info(
        {
          requestId,
          method: ctx.method,
          route,
          ...(matched === undefined && { path: redactedPath(ctx.path) }),
          status: ctx.status,
          ip: ctx.ip,
          ms: Math.round(seconds * 1000),
        },
        'http request',
      );
    }
  });

  app.use(async (ctx, next) => {
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > bodyLimit) {
      deps.metrics.httpRequestsRejected.inc({ reason: 'body_too_large' });
      ctx.status = 413;
      ctx.body = { error: `request body is ${declared} bytes; the limit is ${bodyLimit} bytes` };
      return;
    }
    await next();
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // A probe comes every few seconds: a problem is logged when it starts and when it ends, not at each probe.
  let notReady: string | undefined;
  router.get('/readyz', async (ctx) => {
    const problem = await readinessProblem(deps);
    if (problem !== notReady) {
      if (problem) deps.logger.error({ reason: problem }, `not ready: ${problem}`);
      else deps.logger.info({ was: notReady }, 'ready again');
      notReady = problem;
    }
    ctx.status = problem ? 503 : 200;
    ctx.body = problem ? { status: 'unavailable', reason: problem } : { status: 'ready' };
  });
  router.get('/metrics', async (ctx) => {
    if (deps.metricsToken !== undefined && !bearerTokenMatches(ctx.get('authorization'), deps.metricsToken)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'metrics need Authorization: Bearer <METRICS_TOKEN>' };
      return;
    }
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  for (const addRoutes of deps.routes ?? []) addRoutes(router);

  app.use(router.routes());
  app.use(router.allowedMethods());
  if (deps.lateRoutes) app.use(lateRoutes(deps.lateRoutes));
  return app;
}

/** The late routes' own router, built when they arrive; until then each request waits for them. */
function lateRoutes(routes: Promise<ReadonlyArray<(router: Router) => void>>): Koa.Middleware {
  const middleware = routes.then(
    (adds) => {
      const router = new Router();
      for (const addRoutes of adds) addRoutes(router);
      const [routed, allowed] = [router.routes(), router.allowedMethods()];
      // What app.use(router.routes()) would give them: the same context, typed for the router.
      return (ctx: Koa.Context, next: Koa.Next) => {
        return routed(ctx as Parameters<typeof routed>[0], () => allowed(ctx as Parameters<typeof allowed>[0], next));
      };
    },
    () => undefined,
  );
  return async (ctx, next) => {
    const late = await middleware;
    if (!late) {
      ctx.status = 503;
      ctx.body = { error: 'the service is stopping' };
      return;
    }
    await late(ctx, next);
  };
}

async function readinessProblem(deps: HttpDependencies): Promise<string | undefined> {
  if (!(await databaseAnswers(deps.db))) return 'the database does not answer';
  for (const check of deps.readiness ?? []) {
    const problem = await check();
    if (problem) return problem;
  }
  return undefined;
}

/** A path segment that could be a token: long and of a token's alphabet. */
const TOKEN_LIKE_SEGMENT = /^[A-Za-z0-9._~%+=-]{16,}$/;

/** `path` with every token-like segment replaced, so an unmatched request's path can be logged. */
export function redactedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (TOKEN_LIKE_SEGMENT.test(segment) ? ':redacted' : segment))
    .join('/');
}

/**
 * Whether `authorization` is `Bearer <expected>`. Both sides are hashed first, so the comparison
 * takes the same time whatever the length or the first differing byte.
 */
function bearerTokenMatches(authorization: string, expected: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function httpStatusOf(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
