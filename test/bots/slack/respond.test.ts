/**
 * Replies through response_url over keep-alive connections (issue 19): the same JSON POST as
 * Bolt's `respond`, connections reused, and its failures (a non-2xx answer, a refused
 * connection, no answer in time) reach the caller as errors, as Bolt's do.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RespondError } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { postToResponseUrl } from '../../../src/bots/slack/respond.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(answer: (req: IncomingMessage, body: string) => number | undefined) {
  const seen: Array<{ body: string; type: string | undefined; socket: unknown }> = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ body, type: req.headers['content-type'], socket: req.socket });
      const status = answer(req, body);
      if (status !== undefined) res.writeHead(status).end('done');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/respond/1`, seen };
}

describe('postToResponseUrl', () => {
  it('posts the message as JSON and reuses the connection for the next reply', async () => {
    const { url, seen } = await serve(() => 200);
    await postToResponseUrl(url, { response_type: 'ephemeral', text: 'hello' });
    await postToResponseUrl(url, 'again');
    expect(seen.map((s) => JSON.parse(s.body) as unknown)).toEqual([{ response_type: 'ephemeral', text: 'hello' }, { text: 'again' }]);
    expect(seen[0]!.type).toBe('application/json');
    expect(seen[1]!.socket).toBe(seen[0]!.socket);
  });

  it('a non-2xx answer (an expired response_url) is a RespondError with its status', async () => {
    const { url } = await serve(() => 404);
    const error = await postToResponseUrl(url, 'late').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RespondError);
    expect((error as RespondError).message).toMatch(/404/);
  });

  it('a refused connection and a server that never answers reject', async () => {
    const { url } = await serve(() => undefined);
    await expect(postToResponseUrl(url, 'nobody answers', 50)).rejects.toThrow(/did not answer within 50 ms/);
    const port = (server!.address() as AddressInfo).port;
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    await expect(postToResponseUrl(`http://127.0.0.1:${port}/respond/2`, 'closed')).rejects.toThrow(/ECONNREFUSED/);
  });
});
