/**
 * Webhooks on the whole service (issue 17): a post published through the simulators reaches the
 * receiver as one signed `target.published` per target, with the live link, written in the same
 * transaction as the result; a failure as `target.failed` with the reason; nothing carries a token.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

const SECRET = 'e2e-webhook-secret-0123';
let h: Harness;
let receiver: Server;
const received: Array<{ body: string; valid: boolean }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ts = String(req.headers['x-iqsp-timestamp']);
      const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
      received.push({ body, valid: req.headers['x-iqsp-signature'] === want });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/iqsp`;
  h = await startHarness({ env: { WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET } });
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
  expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

const events = () =>
  received.map(
    (r) => JSON.parse(r.body) as { type: string; post_id?: string; url?: string; reason?: string; target?: { account: string } },
  );

describe('webhooks from the service', () => {
  it('sends target.published for each target, signed, with the live link', async () => {
    const reply = await h.run('U_ADA', 'post x,facebook Hello hooks');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    await h.approve(postId);
    const mine = await h.chat.waitFor(() => {
      const found = events().filter((e) => e.post_id === postId);
      return found.length === 2 && found;
    }, 15_000);
    expect(mine.map((e) => e.type)).toEqual(['target.published', 'target.published']);
    expect(mine.map((e) => e.target!.account).sort()).toEqual(['Facebook Acme Inc', 'X @acme']);
    const tweet = h.sims.x.published.find((t) => t.text === 'Hello hooks')!;
    expect(mine.find((e) => e.target!.account === 'X @acme')!.url).toBe(`https://x.com/acme/status/${tweet.id}`);
    expect(received.every((r) => r.valid)).toBe(true);
  });

  it('sends target.failed with the reason, and never a token', async () => {
    // X refuses the post for its content: a final failure.
    const reply = await h.run('U_ADA', 'post x Hello hooks');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    await h.approve(postId);
    const failed = await h.chat.waitFor(() => events().find((e) => e.post_id === postId), 15_000);
    expect(failed.type).toBe('target.failed');
    expect(failed.reason).toMatch(/^X refused this post because /);
    const tokens = await h.app.services.db.selectFrom('secrets').select('account_id').execute();
    expect(tokens.length).toBeGreaterThan(0);
    for (const r of received) expect(r.body).not.toMatch(/access_token|refresh_token|Bearer|\/media\//);
  });
});
