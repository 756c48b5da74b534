/**
 * The fetch over node:http the chat libraries use (src/http/node-fetch.ts), driven through the
 * Slack Web API client with IQSP's options against a real HTTP server on 127.0.0.1 (Discord's
 * REST through it: test/bots/discord/rest-request.test.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ErrorCode, WebClient, type WebAPIHTTPError, type WebAPIRequestError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFetch } from '../../src/http/node-fetch.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
let answer: (req: IncomingMessage, res: ServerResponse, n: number) => void;

beforeEach(async () => {
  seen = [];
  answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"user":{"id":"U1","is_admin":true}}');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      answer(req, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (options: { retries?: number; timeout?: number } = {}) =>
  new WebClient('xoxb-test-token', {
    slackApiUrl: `${base}/api/`,
    fetch: nodeFetch,
    retryConfig: { retries: options.retries ?? 0, minTimeout: 1, maxTimeout: 5 },
    timeout: options.timeout ?? 30_000,
  });

describe('the Slack Web API client over nodeFetch', () => {
  it('sends a form-encoded call with the token in the Authorization header and reads its JSON', async () => {
    const result = await client().users.info({ user: 'U1' });
    expect(result.user?.is_admin).toBe(true);
    const [request] = seen;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/api/users.info');
    expect(request!.headers['authorization']).toBe('Bearer xoxb-test-token');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers['content-length']).toBe(String(Buffer.byteLength(request!.body)));
    expect(new URLSearchParams(request!.body).get('user')).toBe('U1');
  });

  it('lets the client read a 429’s Retry-After and call again after it', async () => {
    answer = (_req, res, n) => {
      if (n === 1) res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"ok":false,"error":"ratelimited"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    await client({ retries: 1 }).auth.test();
    expect(seen).toHaveLength(2);
  });

  it('gives a non-200 answer to the client as an HTTP error with its status', async () => {
    answer = (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
    const failure = (await client()
      .auth.test()
      .catch((error: unknown) => error)) as WebAPIHTTPError;
    expect(failure.code).toBe(ErrorCode.HTTPError);
    expect(failure.statusCode).toBe(503);
  });

  it('refuses a redirect, as fetch does with redirect: error (the token never follows it)', async () => {
    answer = (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
    const failure = (await client()
      .auth.test()
      .catch((error: unknown) => error)) as WebAPIRequestError;
    expect(failure.code).toBe(ErrorCode.RequestError);
    expect(failure.message).toMatch(/redirect/);
    expect(seen).toHaveLength(1);
  });

  it('aborts a call that outlives the client’s timeout', async () => {
    answer = () => undefined; // never answers
    const failure = (await client({ timeout: 50 })
      .auth.test()
      .catch((error: unknown) => error)) as WebAPIRequestError;
    expect(failure.code).toBe(ErrorCode.RequestError);
  });
});

describe('nodeFetch', () => {
  it('streams a Node Readable body, and gives a 204 no body', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    const response = await nodeFetch(`${base}/upload`, {
      method: 'PUT',
      body: Readable.from([Buffer.from('part one, '), Buffer.from('part two')]),
    });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expect(seen[0]!.body).toBe('part one, part two');
    expect(seen[0]!.headers['transfer-encoding']).toBe('chunked');
  });

  it('refuses a URL that is not http(s)', async () => {
    await expect(nodeFetch('file:///etc/passwd')).rejects.toThrow(/must be http\(s\)/);
  });
});
