/**
 * Review of issue 19 (session 30), through the whole app (startApp with Slack configured, the fake
 * Slack): POST /slack/events served directly once the surface is loaded, driven with raw requests.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRequest, slackSignature } from '../simulators/slack.js';
import { SIGNING_SECRET, SlackHarness } from '../bots/slack/harness.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start();
}, 30_000);
afterAll(async () => {
  await h?.close();
});

const port = () => Number(new URL(h.url).port);

function exchange(request: Buffer | string, chunks: Array<Buffer | string> = []): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port(), '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no answer within 5 s'))), 5_000);
    socket.on('data', (c) => got.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(got).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, at), body: text.slice(at + 4) });
    });
    socket.write(request);
    for (const chunk of chunks) socket.write(chunk);
  });
}

function signed(body: string, extra = ''): string {
  const ts = Math.floor(Date.now() / 1000);
  return (
    `POST /slack/events?token=xoxb-QUERYSECRET HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n` +
    `X-Slack-Request-Timestamp: ${ts}\r\nX-Slack-Signature: ${slackSignature(SIGNING_SECRET, ts, body)}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
}

const logs = () => h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('issue 19 review: /slack/events through the whole app', () => {
  it('a signed url_verification served directly: 200, security headers, the given request id, logged by route without the query', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-19', token: 't' });
    const response = await exchange(signed(body, 'X-Request-Id: rq-s30\r\n'));
    expect(response.status).toBe(200);
    expect(response.body).toContain('c-19');
    expect(response.head).toMatch(/content-security-policy: default-src 'none'/i);
    expect(response.head).toMatch(/x-content-type-options: nosniff/i);
    expect(response.head).toMatch(/x-request-id: rq-s30/i);
    expect(logs().find((e) => e.msg === 'http request' && e.requestId === 'rq-s30')).toMatchObject({
      route: '/slack/events',
      status: 200,
    });
    expect(h.logs.join('')).not.toContain('QUERYSECRET');
  });

  it('a bad signature is 401 with the security headers; a spoofed X-Forwarded-For is ignored without TRUST_PROXY', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const response = await exchange(
      `POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: rq-spoof\r\nX-Forwarded-For: 6.6.6.6\r\n` +
        `X-Slack-Request-Timestamp: ${ts}\r\nX-Slack-Signature: v0=00\r\nContent-Length: 3\r\n\r\na=1`,
    );
    expect(response.status).toBe(401);
    expect(response.head).toMatch(/x-content-type-options: nosniff/i);
    expect(logs().find((e) => e.msg === 'http request' && e.requestId === 'rq-spoof')).toMatchObject({
      ip: expect.stringMatching(/127\.0\.0\.1$/),
      status: 401,
    });
  });

  it('a chunked body over the limit (no Content-Length) is refused 413 before it is all read, with the headers', async () => {
    const head = `POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: rq-chunked\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const piece = 'x'.repeat(256 * 1024);
    const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
    const response = await exchange(head, [chunk, chunk, chunk, chunk, chunk, '0\r\n\r\n']);
    expect(response.status).toBe(413);
    expect(response.head).toMatch(/x-content-type-options: nosniff/i);
    expect(response.head).toMatch(/x-request-id: rq-chunked/i);
    expect(logs().find((e) => e.msg === 'http request' && e.requestId === 'rq-chunked')).toMatchObject({
      route: '/slack/events',
      status: 413,
    });
  });

  // Failed first (fixed since) (low severity): the declared-length 413 is the app's JSON and counted in
  // iqsp_http_requests_rejected_total{reason="body_too_large"}; the same body sent chunked is refused
  // by the Slack receiver with an empty 413 and not counted. body.ts promises "exactly like one that
  // declares a length over it".
  it('a chunked body over the limit gets the same 413 JSON and rejection count as a declared one', async () => {
    const before = await h.running.services.metrics.registry.getSingleMetricAsString('iqsp_http_requests_rejected_total');
    const count = (text: string) => Number(/reason="body_too_large"\} (\d+)/.exec(text)?.[1] ?? 0);
    const head = `POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const piece = 'x'.repeat(600 * 1024);
    const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
    const response = await exchange(head, [chunk, chunk, '0\r\n\r\n']);
    expect(response.status).toBe(413);
    const after = await h.running.services.metrics.registry.getSingleMetricAsString('iqsp_http_requests_rejected_total');
    expect(response.body).toMatch(/"error":/);
    expect(count(after)).toBe(count(before) + 1);
  });

  // Failed first (fixed since) (not new, shared with the Koa path): a client hanging up mid-body makes readBodyLimited
  // reject with the stream's ECONNRESET error (no status), which the Slack route's `guarded` logs as
  // 'a Slack route failed' at error level; the request is logged and counted as a 500. Any client can
  // fill the error log and the 5xx rate this way.
  it('a client hanging up mid-body is not logged as a failure of the service', async () => {
    const socket = connect(port(), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Request-Id: rq-abort\r\nContent-Length: 5000\r\n\r\npartial');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = logs().find((e) => e.msg === 'http request' && e.requestId === 'rq-abort');
    expect(line).toBeDefined();
    expect(logs().filter((e) => e.msg === 'a Slack route failed')).toEqual([]);
    expect(Number(line!.status)).toBeLessThan(500);
  });

  it('sends nothing internal when the event body is malformed', async () => {
    const response = await exchange(signed('{not json'));
    expect(response.status).toBe(400);
    expect(response.body).not.toMatch(/at |Error|\/src\//);
    void eventRequest;
  });
});
