/**
 * Review (issue 19): nodeFetch is meant to put on the wire what fetch would for the same call.
 * Two differences for bodies fetch would encode itself (FormData, URLSearchParams, Blob):
 * - a FormData whose parts are all in memory (the multipart @discordjs/rest sends for
 *   attachments) goes out chunked, without the Content-Length fetch sends; a server or proxy that
 *   wants a length (411) refuses it;
 * - a Content-Type the caller set is replaced by the body's own (fetch keeps the caller's).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { nodeFetch } from '../../src/http/node-fetch.js';

let server: Server;
let base: string;
let seen: Array<IncomingMessage['headers']>;
beforeEach(async () => {
  seen = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function both(init: () => RequestInit): Promise<[IncomingMessage['headers'], IncomingMessage['headers']]> {
  await (await fetch(base, init())).text();
  await (await nodeFetch(base, init())).text();
  return [seen[0]!, seen[1]!];
}

it('a FormData of in-memory parts is sent with its Content-Length, as fetch sends it', async () => {
  const [byFetch, byNode] = await both(() => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'hello' }));
    form.append('files[0]', new Blob([new Uint8Array(2048)], { type: 'image/png' }), 'photo.png');
    return { method: 'POST', body: form };
  });
  expect(byFetch['content-length']).toBeDefined();
  expect(byNode['transfer-encoding']).toBeUndefined();
  expect(byNode['content-length']).toBe(byFetch['content-length']);
});

it('a Content-Type the caller set is kept, as fetch keeps it', async () => {
  const [byFetch, byNode] = await both(() => ({
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Blob(['raw'], { type: 'text/plain' }),
  }));
  expect(byFetch['content-type']).toBe('application/octet-stream');
  expect(byNode['content-type']).toBe(byFetch['content-type']);
});
