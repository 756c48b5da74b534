/**
 * A node route (`POST /slack/events`) behind the real request listener and Koa app, for tests of
 * how node routes are served (test/http/node-routes.test.ts and its reviews): the route arrives
 * when the test says (`arrive`), as when the chat surfaces finish loading.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createHttpApp, requestListener, type HttpDependencies, type NodeRoute } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

export interface NodeRouteWorld {
  port: number;
  base: string;
  /** The log lines, parsed. */
  logged: () => Array<Record<string, unknown>>;
  /** The log as written. */
  raw: () => string;
  metrics: () => Promise<string>;
  /** Resolves the late node routes (until then requests wait for them, served through Koa). */
  arrive: () => Promise<void>;
  /** How each request reached the handler: 'koa' or 'direct'. */
  servedBy: string[];
  close: () => Promise<void>;
}

/** Koa sets the status to 404 before its middleware runs: a response it serves starts as a 404. */
function koaServed(res: ServerResponse): boolean {
  return res.statusCode === 404;
}

/** Reads the body and answers an empty 200. */
export const ok: NodeRoute['handle'] = async (req, res) => {
  for await (const _ of req) void _;
  res.writeHead(200);
  res.end();
};

export async function nodeRouteWorld(handle: NodeRoute['handle'], options: Partial<HttpDependencies> = {}): Promise<NodeRouteWorld> {
  const t: TestDatabase = await testDatabase();
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) });
  const metrics = createMetrics();
  let arrive!: (routes: readonly NodeRoute[]) => void;
  const lateNodeRoutes = new Promise<readonly NodeRoute[]>((resolve) => (arrive = resolve));
  const servedBy: string[] = [];
  const route: NodeRoute = {
    method: 'POST',
    path: '/slack/events',
    handle: (req, res) => {
      servedBy.push(koaServed(res) ? 'koa' : 'direct');
      return handle(req, res);
    },
  };
  const deps: HttpDependencies = {
    db: t.db,
    logger: createLogger('info', sink),
    metrics,
    bodyLimitBytes: 1024,
    publicUrl: 'https://iqsp.example',
    lateNodeRoutes,
    ...options,
  };
  const server: Server = createServer(requestListener(createHttpApp(deps), deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    logged: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    raw: () => lines.join(''),
    metrics: async () => metrics.registry.metrics(),
    arrive: async () => {
      arrive([route]);
      await lateNodeRoutes;
      await new Promise((resolve) => setImmediate(resolve));
    },
    servedBy,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await t.close().catch(() => undefined);
    },
  };
}
