import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { Db } from '../db/database.js';
import { databaseAnswers } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { securityHeaderList } from './security-headers.js';

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
  /**
   * Late routes that write the Node response themselves (Slack's events): until they arrive they
   * are served like the late routes above, through Koa; once here, `requestListener` serves them
   * without Koa, with the same bookkeeping (see NodeRoute).
   */
  lateNodeRoutes?: Promise<readonly NodeRoute[]>;
}

/**
 * A route whose handler reads the Node request and writes the Node response itself (Slack's
 * events, through Bolt's receiver). Served without Koa's context, router and middleware once
 * known: Slack's events come in floods, each to be answered within 3 s, and in a flood Koa's layers
 * (two routers and the late-routes wrapper before this route) were ~6 of the ~40 KB the process
 * allocated per request (bench/slack-ack.mjs, a sampled heap profile). The request still gets what
 * Koa's layers give every request: the security headers, a request id, the body limit's 413, the
 * duration metric, the log line, and Koa's answer when the handler throws (a 500 with nothing
 * internal, or a 4xx with its message).
 */
export interface NodeRoute {
  method: 'GET' | 'POST';
  path: string;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export function createHttpApp(deps: HttpDependencies): Koa {
  // Without a proxy in front, X-Forwarded-For is whatever the client wrote.
  // One proxy in front: the address it appended (the last) is the client; earlier ones are the client's own words.
  const app = new Koa({ proxy: deps.trustProxy ?? false, maxIpsCount: 1 });
  const router = new Router();
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const book = bookkeeping(deps);

  // Errors thrown by handlers become JSON with a message a person can read; 5xx are logged
  // and never reveal internals.
  app.silent = true;
  app.use(async (ctx, next) => {
    ctx.set(book.headers);
    await next();
  });
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = book.requestIdOf(ctx.req);
    ctx.set('x-request-id', requestId);
    try {
      await next();
    } catch (error) {
      const status = httpStatusOf(error);
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'internal error' : (error as Error).message };
      if (status >= 500) book.failed(error, requestId, ctx.path);
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      book.finished(ctx.req, {
        requestId,
        started,
        route: matched === undefined ? undefined : String(matched),
        path: ctx.path,
        status: ctx.status,
      });
    }
  });

  app.use(async (ctx, next) => {
    const refusal = book.tooLarge(ctx.req, bodyLimit);
    if (refusal) {
      ctx.status = 413;
      ctx.body = refusal;
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
  if (deps.lateRoutes || deps.lateNodeRoutes) app.use(lateRoutes(lateRouteAdders(deps)));
  return app;
}

/** Every late route as something that adds itself to a Koa router, node routes included (served through Koa until they arrive). */
async function lateRouteAdders(deps: HttpDependencies): Promise<ReadonlyArray<(router: Router) => void>> {
  const [adders, nodeRoutes] = await Promise.all([deps.lateRoutes ?? [], deps.lateNodeRoutes ?? []]);
  return [
    ...adders,
    (router: Router) => {
      for (const route of nodeRoutes)
        router.register(route.path, [route.method], async (ctx) => {
          // The handler writes the Node response itself; Koa must leave it alone.
          ctx.respond = false;
          await route.handle(ctx.req, ctx.res);
        });
    },
  ];
}

/**
 * The HTTP server's request listener: a node route (`lateNodeRoutes`), once known, is served
 * directly, with the bookkeeping the Koa app gives every request; everything else goes to `app`.
 */
export function requestListener(app: Koa, deps: HttpDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const koa = app.callback();
  const book = bookkeeping(deps);
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  let direct: ReadonlyMap<string, NodeRoute> = new Map();
  void deps.lateNodeRoutes?.then(
    (routes) => (direct = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]))),
    () => undefined,
  );
  return (req, res) => {
    const path = pathOf(req.url);
    const route = direct.get(`${req.method} ${path}`);
    if (!route) return void koa(req, res);
    serveDirectly(route, req, res, path, book, bodyLimit).catch((error: unknown) => {
      // Only a fault of the bookkeeping itself lands here; the request must still end.
      book.failed(error, 'unknown', path);
      res.destroy();
    });
  };
}

async function serveDirectly(
  route: NodeRoute,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  book: Bookkeeping,
  bodyLimit: number,
): Promise<void> {
  const started = process.hrtime.bigint();
  const requestId = book.requestIdOf(req);
  try {
    for (const [name, value] of book.headerEntries) res.setHeader(name, value);
    res.setHeader('x-request-id', requestId);
    const refusal = book.tooLarge(req, bodyLimit);
    if (refusal) sendJson(res, 413, refusal);
    else await route.handle(req, res);
  } catch (error) {
    // As the Koa app answers a route that throws.
    const status = httpStatusOf(error);
    if (status >= 500) book.failed(error, requestId, path);
    if (res.headersSent) res.destroy();
    else sendJson(res, status, { error: status >= 500 ? 'internal error' : String((error as Error).message) });
  } finally {
    book.finished(req, { requestId, started, route: route.path, path, status: res.statusCode });
  }
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function pathOf(url: string | undefined): string {
  const at = (url ?? '/').indexOf('?');
  return at < 0 ? (url ?? '/') : url!.slice(0, at);
}

type Bookkeeping = ReturnType<typeof bookkeeping>;

/** What every request gets, served through Koa or directly: one definition for both. */
function bookkeeping(deps: HttpDependencies) {
  const trustProxy = deps.trustProxy ?? false;
  const headers = securityHeaderList(deps.publicUrl);
  return {
    headers,
    headerEntries: Object.entries(headers),
    requestIdOf: (req: IncomingMessage): string => {
      const given = req.headers['x-request-id'];
      return (Array.isArray(given) ? given.join(', ') : given) || randomUUID();
    },
    /** The 413's body when the declared length is over the limit (counted), else undefined. */
    tooLarge: (req: IncomingMessage, limit: number): { error: string } | undefined => {
      const declared = Number(req.headers['content-length'] || 0);
      if (!(declared > limit)) return undefined;
      deps.metrics.httpRequestsRejected.inc({ reason: 'body_too_large' });
      return { error: `request body is ${declared} bytes; the limit is ${limit} bytes` };
    },
    failed: (error: unknown, requestId: string, path: string): void =>
      deps.logger.error({ err: error, requestId, path: redactedPath(path) }, 'request failed'),
    /** The duration metric and the log line. */
    finished: (
      req: IncomingMessage,
      done: { requestId: string; started: bigint; route: string | undefined; path: string; status: number },
    ): void => {
      const seconds = Number(process.hrtime.bigint() - done.started) / 1e9;
      const route = done.route ?? 'unmatched';
      const method = req.method ?? 'GET';
      deps.metrics.httpRequestDuration.observe({ method, route, status: String(done.status) }, seconds);
      // Paths carry connect and media tokens, queries OAuth codes: a matched request is logged
      // by its route template, any other by its path with token-like parts cut out, no query.
      deps.logger.info(
        {
          requestId: done.requestId,
          method,
          route,
          ...(done.route === undefined && { path: redactedPath(done.path) }),
          status: done.status,
          ip: clientIp(req, trustProxy),
          ms: Math.round(seconds * 1000),
        },
        'http request',
      );
    },
  };
}

/**
 * The client's address, as Koa's `ctx.ip` with `maxIpsCount: 1`: behind a trusted proxy the last
 * X-Forwarded-For entry (the one the proxy appended), else the socket's peer.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  // Koa splits at commas and trims each entry (String#trim: a no-break space too).
  const last = forwarded ? String(forwarded).split(',').at(-1)!.trim() : undefined;
  return last || req.socket.remoteAddress || '';
}

/** The late routes' own router, built when they arrive; until then each request waits for them. */
function lateRoutes(routes: Promise<ReadonlyArray<(router: Router) => void>>): Koa.Middleware {
  const middleware = routes.then(
    (adds) => {
      const router = new Router();
      for (const addRoutes of adds) addRoutes(router);
      const [routed, allowed] = [router.routes(), router.allowedMethods()];
      // What app.use(router.routes()) would give them: the same context, typed for the router.
      return async (ctx: Koa.Context, next: Koa.Next): Promise<void> => {
        await routed(ctx as Parameters<typeof routed>[0], async () => {
          await allowed(ctx as Parameters<typeof allowed>[0], next);
        });
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
  // A rejection without a reason (null, undefined) is a failure like any other.
  const status = (error as { status?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
