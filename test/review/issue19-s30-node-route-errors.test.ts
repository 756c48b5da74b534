/**
 * Review of issue 19 (session 30): a node route's handler failing, served directly, must be answered
 * as the Koa app's error middleware answers, and must never leave an unhandled rejection (Node 20
 * ends the process on one).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpDependencies, NodeRoute } from '../../src/http/app.js';
import { readBodyLimited } from '../../src/http/body.js';
import { nodeRouteWorld, type NodeRouteWorld } from '../http/node-route-world.js';

const worlds: NodeRouteWorld[] = [];
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  restore = undefined;
  for (const w of worlds.splice(0)) await w.close();
});

/** Unhandled rejections seen while the test runs (Vitest's own listener is set aside meanwhile). */
function catchUnhandled(): unknown[] {
  const seen: unknown[] = [];
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const mine = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', mine);
  restore = () => {
    process.off('unhandledRejection', mine);
    for (const listener of saved) process.on('unhandledRejection', listener);
  };
  return seen;
}

async function world(handle: NodeRoute['handle'], options: Partial<HttpDependencies> = {}): Promise<NodeRouteWorld> {
  const w = await nodeRouteWorld(handle, options);
  worlds.push(w);
  return w;
}

/** The raw bytes the server sent before closing (or `timeoutMs` passing: then `timedOut`). */
function rawExchange(port: number, request: string, timeoutMs = 1_500): Promise<{ text: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), socket.destroy()), timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(timer), resolve({ text: Buffer.concat(chunks).toString('latin1'), timedOut })));
    socket.write(request);
  });
}

const post = (body = 'a=1', extra = '') =>
  `POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe('issue 19 review: a failing node route served directly', () => {
  it('answers a 4xx error with its message, as the Koa error middleware does', async () => {
    const w = await world(async () => {
      throw Object.assign(new Error('the client closed the request before its body ended'), { status: 400 });
    });
    await w.arrive();
    const { text } = await rawExchange(w.port, post());
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('{"error":"the client closed the request before its body ended"}');
    expect(text).toMatch(/x-content-type-options: nosniff/i);
    expect(w.logged().some((e) => e.msg === 'request failed')).toBe(false);
    expect(w.logged().find((e) => e.msg === 'http request')).toMatchObject({ status: 400, route: '/slack/events' });
  });

  it('cuts the connection, logs the failure and does not crash when the handler throws after its headers went out', async () => {
    const unhandled = catchUnhandled();
    const w = await world(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('late failure');
    });
    await w.arrive();
    const { text, timedOut } = await rawExchange(w.port, post());
    expect(timedOut).toBe(false);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).not.toContain('internal error');
    expect(w.logged().find((e) => e.msg === 'request failed')).toMatchObject({ path: '/slack/events' });
    expect(unhandled).toEqual([]);
  });

  // Failed first (fixed since) (not new in 15a149b, shared with the Koa path): readBodyLimited hears the request's 'error'
  // (ECONNRESET "aborted") before 'close', so the error it rejects with has no status 400: a client
  // that hangs up mid-body is logged as 'request failed' (error level) and counted as a 500.
  it('a client gone mid-body: no crash, no unhandled rejection, the request logged once, as a 400', async () => {
    const unhandled = catchUnhandled();
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    const w = await world(async (req, res) => {
      try {
        const body = await readBodyLimited(req, 1024);
        res.end(body);
      } finally {
        settled();
      }
    });
    await w.arrive();
    const socket = connect(w.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nonly-a-little');
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.destroy();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(unhandled).toEqual([]);
    const lines = w.logged().filter((e) => e.msg === 'http request');
    expect(lines).toHaveLength(1);
    // readBodyLimited's error says 400: the client's doing, not a failure of the service.
    expect(lines[0]).toMatchObject({ status: 400, route: '/slack/events' });
    expect(w.logged().some((e) => e.msg === 'request failed')).toBe(false);
  });

  it('a client gone mid-body is logged with the same status on the Koa path and the direct path', async () => {
    const unhandled = catchUnhandled();
    const w = await world(async (req, res) => {
      res.end(await readBodyLimited(req, 1024));
    });
    const abort = async (meanwhile: () => Promise<void>) => {
      const socket = connect(w.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nonly-a-little');
      await new Promise((resolve) => setTimeout(resolve, 30));
      await meanwhile();
      await new Promise((resolve) => setTimeout(resolve, 30));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 30));
    };
    await abort(() => w.arrive()); // waiting in Koa's late-routes middleware, then read by the handler through Koa
    await abort(async () => undefined); // served directly
    expect(w.servedBy).toEqual(['koa', 'direct']);
    const statuses = w
      .logged()
      .filter((e) => e.msg === 'http request')
      .map((e) => e.status);
    expect(statuses).toHaveLength(2);
    expect(statuses[0]).toBe(statuses[1]);
    expect(unhandled).toEqual([]);
  });

  // Failed first (fixed since) (Koa path before arrival; readBodyLimited): a request whose client hung up while it waited for
  // the late routes reaches the handler already destroyed; readBodyLimited then listens for 'end',
  // 'error' and 'close' that were all emitted before, and never settles. The handler (Slack's
  // receiver) hangs for good, and the request is never logged nor counted.
  it('a client gone while its request waited for the late routes: the handler settles and the request is logged', async () => {
    let settled = false;
    const w = await world(async (req, res) => {
      try {
        res.end(await readBodyLimited(req, 1024));
      } finally {
        settled = true;
      }
    });
    const socket = connect(w.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nonly-a-little');
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await w.arrive();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(w.servedBy).toEqual(['koa']);
    expect(settled).toBe(true);
    expect(w.logged().filter((e) => e.msg === 'http request')).toHaveLength(1);
  });

  // Failed first (fixed since): serveDirectly's catch calls httpStatusOf(error), which reads `.status` of the thrown value:
  // `throw null` / `throw undefined` / a rejected promise with no reason makes the catch itself throw a
  // TypeError, the finally logs, and the promise `void serveDirectly(...)` rejects unhandled (Node 20
  // ends the process on it). The client gets no answer at all. The Koa path survives it (Koa's
  // ctx.onerror answers 500).
  it('survives a handler that rejects with no reason (null): answers 500 and leaves no unhandled rejection', async () => {
    const unhandled = catchUnhandled();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point: a rejection without an Error
    const w = await world(() => Promise.reject(null));
    await w.arrive();
    const { text, timedOut } = await rawExchange(w.port, post());
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(unhandled).toEqual([]);
    expect(timedOut).toBe(false);
    expect(text).toMatch(/^HTTP\/1\.1 500 /);
    expect(text).toContain('{"error":"internal error"}');
  });
});
