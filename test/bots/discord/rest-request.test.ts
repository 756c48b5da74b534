/**
 * Discord REST over node:http (src/http/node-fetch.ts), driven through @discordjs/rest's
 * REST with IQSP's options against a real HTTP server on 127.0.0.1: what arrives is what the
 * library asked for (JSON, multipart uploads), and what comes back (statuses, rate-limit headers,
 * errors, no body) reaches it as from its own request function.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscordAPIError, REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordRestOptions } from '../../../src/bots/discord/client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let seen: Seen[];
let connections: number;
let answer: (req: IncomingMessage, res: ServerResponse, n: number) => void;

beforeEach(async () => {
  seen = [];
  connections = 0;
  answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      answer(req, res, seen.length);
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function rest(options: { timeout?: number; retries?: number } = {}): REST {
  const { port } = server.address() as AddressInfo;
  return new REST({ ...discordRestOptions(`http://127.0.0.1:${port}/api`), ...options }).setToken('bot-token');
}

describe('Discord REST over node:http', () => {
  it('sends a JSON body with its length and the bot token, and parses the JSON answer', async () => {
    const result = await rest().post('/channels/123456789012345678/messages', { body: { content: 'hello' } });
    expect(result).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/api/v10/channels/123456789012345678/messages');
    expect(request!.headers['authorization']).toBe('Bot bot-token');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['content-length']).toBe(String(Buffer.byteLength('{"content":"hello"}')));
    expect(request!.body.toString()).toBe('{"content":"hello"}');
  });

  it('uploads a file as multipart/form-data, with payload_json beside it', async () => {
    await rest().post('/channels/123456789012345678/messages', {
      body: { content: 'your export' },
      files: [{ name: 'iqsp-data.json', data: Buffer.from('{"posts":[]}'), contentType: 'application/json' }],
    });
    const [request] = seen;
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(request!.headers['content-type'] ?? '')?.[1];
    expect(boundary).toBeDefined();
    const body = request!.body.toString();
    expect(body).toContain(`--${boundary}`);
    expect(body).toMatch(/name="files\[0\]"; filename="iqsp-data.json"\r\nContent-Type: application\/json\r\n\r\n\{"posts":\[\]\}\r\n/);
    expect(body).toMatch(/name="payload_json"\r\n\r\n\{"content":"your export"\}\r\n/);
  });

  it('answers a 204 with no body', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    const result = await rest().delete('/channels/123456789012345678/messages/223456789012345678');
    expect(seen[0]!.method).toBe('DELETE');
    expect(result).toEqual(new ArrayBuffer(0));
  });

  it('gives a Discord error (JSON code and message) to the library as a DiscordAPIError', async () => {
    answer = (_req, res) =>
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 50013, message: 'Missing Permissions' }));
    const failure = await rest()
      .post('/channels/123456789012345678/messages', { body: { content: 'x' } })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiscordAPIError);
    expect((failure as DiscordAPIError).code).toBe(50013);
    expect((failure as DiscordAPIError).status).toBe(403);
  });

  it('lets the library read a 429’s rate-limit headers and retry after them', async () => {
    answer = (_req, res, n) => {
      if (n === 1)
        res
          .writeHead(429, {
            'content-type': 'application/json',
            'retry-after': '0',
            'x-ratelimit-scope': 'user',
            'x-ratelimit-limit': '5',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset-after': '0.01',
            'x-ratelimit-bucket': 'b1',
          })
          .end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.01, global: false }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1"}');
    };
    const result = await rest().post('/channels/123456789012345678/messages', { body: { content: 'x' } });
    expect(result).toEqual({ id: '1' });
    expect(seen).toHaveLength(2);
  });

  it('reuses one connection for requests one after another', async () => {
    const client = rest();
    await client.get('/users/@me');
    await client.get('/users/@me');
    await client.get('/users/@me');
    expect(seen).toHaveLength(3);
    expect(connections).toBe(1);
  });

  it('aborts a request that outlives the library’s timeout (an AbortError, the connection closed)', async () => {
    answer = () => undefined; // never answers
    let closed = false;
    server.on('request', (req: IncomingMessage) => req.socket.once('close', () => (closed = true)));
    const failure = await rest({ timeout: 50, retries: 0 })
      .get('/users/@me')
      .catch((error: unknown) => error);
    expect((failure as Error).name).toBe('AbortError');
    await expect.poll(() => closed).toBe(true);
  });
});
