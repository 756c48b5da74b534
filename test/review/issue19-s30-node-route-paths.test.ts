/**
 * Review of issue 19 (session 30): POST /slack/events served without Koa. Raw request lines
 * (node:net) against createHttpApp + requestListener: which requests the direct path takes, and
 * that whatever it does not take is answered by Koa exactly as before, with the same headers.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpDependencies, NodeRoute } from '../../src/http/app.js';
import { nodeRouteWorld, ok, type NodeRouteWorld } from '../http/node-route-world.js';

const worlds: NodeRouteWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world(handle: NodeRoute['handle'], options: Partial<HttpDependencies> = {}): Promise<NodeRouteWorld> {
  const w = await nodeRouteWorld(handle, options);
  worlds.push(w);
  return w;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (request line and headers, without the blank line) and `body` as written; Connection: close. */
function rawRequest(port: number, head: string, body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no answer within 3 s'))), 3_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [headText = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = headText.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') });
    });
    const length = body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
    socket.write(Buffer.from(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${length}\r\n${body}`, 'latin1'));
  });
}

const SECURITY = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'strict-transport-security', 'x-request-id'];

describe('issue 19 review: which requests the direct path takes', () => {
  it('serves the exact path (query stripped) directly, and the variants @koa/router also matches through Koa, with the same headers', async () => {
    const w = await world(ok);
    await w.arrive();
    const variants = [
      ['POST /slack/events HTTP/1.1', 'direct', 200],
      ['POST /slack/events?x HTTP/1.1', 'direct', 200],
      ['POST /slack/events?token=xoxb-SECRET&code=SECRET2 HTTP/1.1', 'direct', 200],
      ['POST /slack/events/ HTTP/1.1', 'koa', 200],
      ['POST /SLACK/events HTTP/1.1', 'koa', 200],
      ['POST http://127.0.0.1/slack/events HTTP/1.1', 'koa', 200],
      ['POST //slack/events HTTP/1.1', undefined, 404],
      ['POST /slack/events/../events HTTP/1.1', undefined, 404],
      ['POST /slack/events;x HTTP/1.1', undefined, 404],
      ['POST /slack/events%3Fx HTTP/1.1', undefined, 404],
    ] as const;
    const seen: Array<[string, string | undefined, number]> = [];
    const headerNames: string[][] = [];
    for (const [line] of variants) {
      const before = w.servedBy.length;
      const response = await rawRequest(w.port, line, 'a=1');
      seen.push([line, w.servedBy[before], response.status]);
      headerNames.push(SECURITY.filter((name) => response.headers[name] !== undefined));
    }
    expect(seen).toEqual(variants.map(([line, by, status]) => [line, by, status]));
    // Every answer, direct, Koa-routed or Koa's 404, carries every security header and a request id.
    for (const names of headerNames) expect(names).toEqual(SECURITY);
  });

  it('what @koa/router does with a percent-encoded path is what the direct path leaves to it', async () => {
    const w = await world(ok);
    await w.arrive();
    const response = await rawRequest(w.port, 'POST /slack/%65vents HTTP/1.1', 'a=1');
    // Never the direct path (an exact string match); whatever Koa answers carries the headers.
    expect(w.servedBy.filter((by) => by === 'direct')).toEqual([]);
    for (const name of SECURITY) expect(response.headers[name]).toBeDefined();
  });

  it('leaves HEAD, OPTIONS and GET to Koa (405 / 200 Allow), with the security headers', async () => {
    const w = await world(ok);
    await w.arrive();
    const head = await rawRequest(w.port, 'HEAD /slack/events HTTP/1.1');
    const options = await rawRequest(w.port, 'OPTIONS /slack/events HTTP/1.1');
    const get = await rawRequest(w.port, 'GET /slack/events HTTP/1.1');
    expect([head.status, options.status, get.status]).toEqual([405, 200, 405]);
    expect(options.headers.allow).toBe('POST');
    for (const response of [head, options, get]) for (const name of SECURITY) expect(response.headers[name]).toBeDefined();
    expect(w.servedBy).toEqual([]);
  });

  it('gives a direct answer the same header set as the same request served through Koa before arrival', async () => {
    const w = await world(ok);
    const early = rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: same', 'a=1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await w.arrive();
    const viaKoa = await early;
    const direct = await rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: same', 'a=1');
    expect(w.servedBy).toEqual(['koa', 'direct']);
    const strip = (r: RawResponse) => ({ ...r.headers, date: 'x' });
    expect(strip(direct)).toEqual(strip(viaKoa));
    expect(direct.body).toBe(viaKoa.body);
  });

  it('gives the declared-length 413 byte for byte as Koa does before arrival', async () => {
    const w = await world(ok);
    const big = 'x'.repeat(2048);
    const early = rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: same', big);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await w.arrive();
    const viaKoa = await early;
    const direct = await rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: same', big);
    expect([viaKoa.status, direct.status]).toEqual([413, 413]);
    expect({ ...direct.headers, date: 'x' }).toEqual({ ...viaKoa.headers, date: 'x' });
    expect(direct.body).toBe(viaKoa.body);
    expect(w.servedBy).toEqual([]);
    expect(await w.metrics()).toMatch(/iqsp_http_requests_rejected_total\{reason="body_too_large"\} 2/);
  });

  it('never logs a query, and logs a token in an unmatched path redacted', async () => {
    const w = await world(ok);
    await w.arrive();
    await rawRequest(w.port, 'POST /slack/events?token=xoxb-1111-SECRETQUERY HTTP/1.1', 'a=1');
    await rawRequest(w.port, 'POST http://127.0.0.1/slack/events?code=SECRETABSOLUTE HTTP/1.1', 'a=1');
    await rawRequest(w.port, 'POST /slack/events/xoxb1111SECRETPATHTOKEN HTTP/1.1', 'a=1');
    await rawRequest(w.port, 'POST http://127.0.0.1/slack/xoxb1111SECRETABSPATH?code=Q HTTP/1.1', 'a=1');
    const text = w.raw();
    for (const secret of ['SECRETQUERY', 'SECRETABSOLUTE', 'SECRETPATHTOKEN', 'SECRETABSPATH']) expect(text).not.toContain(secret);
    const routes = w
      .logged()
      .filter((e) => e.msg === 'http request')
      .map((e) => e.route);
    expect(routes).toEqual(['/slack/events', '/slack/events', 'unmatched', 'unmatched']);
  });

  it('echoes an x-request-id with odd (but legal) characters, a duplicate and a 12 KB one without crashing, the same on both paths', async () => {
    const w = await world(ok);
    await w.arrive();
    const odd = await rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: a"b\\c<d>\xe9\t}{', 'a=1');
    expect(odd.status).toBe(200);
    expect(odd.headers['x-request-id']).toBe('a"b\\c<d>\xe9\t}{');
    const dup = await rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id: one\r\nX-Request-Id: two', 'a=1');
    expect(dup.headers['x-request-id']).toBe('one, two');
    const huge = 'r'.repeat(12_000);
    const big = await rawRequest(w.port, `POST /slack/events HTTP/1.1\r\nX-Request-Id: ${huge}`, 'a=1');
    expect(big.status).toBe(200);
    expect(big.headers['x-request-id']).toBe(huge);
    const empty = await rawRequest(w.port, 'POST /slack/events HTTP/1.1\r\nX-Request-Id:', 'a=1');
    expect(empty.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.servedBy).toEqual(['direct', 'direct', 'direct', 'direct']);
    // Log lines stay one JSON object each (no injection through the id).
    expect(
      w
        .logged()
        .filter((e) => e.msg === 'http request')
        .map((e) => e.requestId),
    ).toEqual(['a"b\\c<d>\xe9\t}{', 'one, two', huge, expect.stringMatching(/^[0-9a-f-]{36}$/)]);
  });
});
