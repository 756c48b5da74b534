/**
 * Signed webhooks (issue 17): events written to the durable queue and delivered by the real
 * worker to a receiver on 127.0.0.1, with the app's clock controlled (backoff is waited for by
 * moving the clock, never by sleeping for it).
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhooks, WEBHOOK_QUEUE, webhookSignature, type WebhookEvent } from '../../src/core/webhooks.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

const SECRET = 'whsec-test-0123456789abcdef';

interface Received {
  body: string;
  timestamp: string;
  signature: string;
  status: number;
}

let t: TestDatabase;
let receiver: Server;
let url: string;
let received: Received[];
/** What the receiver answers next, in order; 200 once empty. */
let answers: number[];
let now: Date;
let worker: Worker | undefined;

beforeEach(async () => {
  t = await testDatabase();
  received = [];
  answers = [];
  now = new Date('2026-12-03T10:00:00Z');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        timestamp: String(req.headers['x-iqsp-timestamp']),
        signature: String(req.headers['x-iqsp-signature']),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await new Promise<void>((r) => receiver.close(() => r()));
  await t.close();
});

function start(): { webhooks: Webhooks; queue: JobQueue; outcomes: string[] } {
  const clock = () => now;
  const queue = new JobQueue(t.db, clock);
  const outcomes: string[] = [];
  const webhooks = new Webhooks({
    queue,
    logger: createLogger('silent'),
    target: { url, secret: SECRET },
    publicUrl: 'https://iqsp.example',
    now: clock,
    onDelivery: (outcome) => outcomes.push(outcome),
  });
  worker = new Worker(queue, { queue: WEBHOOK_QUEUE, handler: webhooks.handle, concurrency: 4, pollMs: 10 }, createLogger('silent'));
  void worker.start();
  return { webhooks, queue, outcomes };
}

async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until no delivery is running (each run's decision is written), so moving the clock next is seen by all. */
async function settled(): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    const running = await t.db.selectFrom('jobs').select('id').where('queue', '=', WEBHOOK_QUEUE).where('status', '=', 'running').execute();
    if (running.length === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('a delivery kept running');
}

/** Moves the app's clock on once every run so far has written its decision. */
async function advance(ms: number): Promise<void> {
  await settled();
  now = new Date(now.getTime() + ms);
}

/** A delivery's body, read. */
const bodyOf = (delivery: Received) => JSON.parse(delivery.body) as { id: string; type: string; reason?: string };

const target = { id: 't1', platform: 'x', account: 'X @acme' };
const published = (postId: string): WebhookEvent => ({
  type: 'target.published',
  post_id: postId,
  target,
  url: 'https://x.com/acme/status/1',
});

describe('webhooks', () => {
  it('POSTs each event as JSON, signed over "<timestamp>.<body>" with the secret', async () => {
    const { webhooks } = start();
    await webhooks.emit(undefined, published('P1'));
    const [delivery] = await until(() => received.length === 1 && received);
    const body = JSON.parse(delivery!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'target.published', post_id: 'P1', target, url: 'https://x.com/acme/status/1' });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.at).toBe('2026-12-03T10:00:00.000Z');
    expect(delivery!.timestamp).toBe(String(now.getTime() / 1000));
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${delivery!.timestamp}.${delivery!.body}`).digest('hex')}`;
    expect(delivery!.signature).toBe(expected);
    expect(webhookSignature(SECRET, delivery!.timestamp, delivery!.body)).toBe(expected);
    // A receiver checking with another secret, or another body, refuses it.
    expect(webhookSignature('another-secret-0123', delivery!.timestamp, delivery!.body)).not.toBe(delivery!.signature);
  });

  it('retries after the receiver answered 500, with backoff, and keeps the order of a post', async () => {
    const { webhooks, outcomes } = start();
    answers = [500];
    await webhooks.emit(undefined, { type: 'target.unconfirmed', post_id: 'P2', target, reason: 'the answer was lost' });
    await webhooks.emit(undefined, published('P2'));
    await until(() => received.length === 1);
    // The first was refused; the second waits for it, whatever the worker polls meanwhile.
    await new Promise((r) => setTimeout(r, 200));
    expect(received.map((r) => [bodyOf(r).type, r.status])).toEqual([['target.unconfirmed', 500]]);
    await advance(31_000);
    await until(() => received.length === 2);
    // The later event waited for it (looking again every 2 s of the app's clock).
    await advance(3_000);
    await until(() => received.length === 3);
    expect(received.map((r) => [bodyOf(r).type, r.status])).toEqual([
      ['target.unconfirmed', 500],
      ['target.unconfirmed', 200],
      ['target.published', 200],
    ]);
    // The same event, delivered again: the same id, so a receiver can drop a repeat.
    expect(bodyOf(received[0]!).id).toBe(bodyOf(received[1]!).id);
    await until(() => outcomes.length === 2);
    expect(outcomes).toEqual(['delivered', 'delivered']);
  });

  it('drops a delivery the receiver refused for a day, with a metric', async () => {
    const { webhooks, outcomes } = start();
    answers = Array.from({ length: 100 }, () => 503);
    await webhooks.emit(undefined, { type: 'post.expired', post_id: 'P3' });
    for (let hour = 0; hour < 26 && outcomes.length === 0; hour += 1) {
      const before = received.length;
      await until(() => received.length > before || outcomes.length > 0);
      await advance(3600_000);
    }
    expect(outcomes).toEqual(['dropped']);
    const tries = received.length;
    await advance(3600_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.length).toBe(tries);
  });

  it('never carries a token or an IQSP media link', async () => {
    const { webhooks } = start();
    await webhooks.emit(undefined, {
      type: 'target.failed',
      post_id: 'P4',
      target,
      reason: 'Graph said: invalid access_token=EAAGsecret123 for https://iqsp.example/media/v1.tok.en.sig/photo.jpg; try again',
    });
    const [delivery] = await until(() => received.length === 1 && received);
    expect(delivery!.body).not.toContain('EAAGsecret123');
    expect(delivery!.body).not.toContain('/media/');
    expect(bodyOf(delivery!).reason).toBe('Graph said: invalid access_token=[redacted] for [media link]; try again');
  });

  it('takes out media links in any spelling (percent-encoded, S3 presigned)', async () => {
    const { webhooks } = start();
    await webhooks.emit(undefined, {
      type: 'target.failed',
      post_id: 'P6',
      target,
      reason:
        'could not fetch https%3A%2F%2Fiqsp.example%2Fmedia%2Fv1.tok%2Fa.jpg nor https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abc123 (see https://developers.facebook.com/docs)',
    });
    const [delivery] = await until(() => received.length === 1 && received);
    const reason = bodyOf(delivery!).reason!;
    expect(reason).not.toMatch(/iqsp\.example|X-Amz|abc123/);
    expect(reason).toBe('could not fetch [media link] nor [media link] (see https://developers.facebook.com/docs)');
  });

  it('an event waiting behind an older one spends no tries: its own backoff starts at 30 s', async () => {
    const { webhooks } = start();
    answers = [500, 500, 500, 200, 500];
    await webhooks.emit(undefined, { type: 'target.unconfirmed', post_id: 'P8', target, reason: 'lost' });
    await webhooks.emit(undefined, published('P8'));
    await until(() => received.length === 1);
    // The app's clock moves on 2 s at a time, the worker given a moment to look each time.
    for (let i = 0; i < 400 && !received.some((r) => bodyOf(r).type === 'target.published'); i += 1) {
      await advance(2_000);
      await new Promise((r) => setTimeout(r, 15));
    }
    await settled();
    const job = await t.db
      .selectFrom('jobs')
      .selectAll()
      .where('queue', '=', WEBHOOK_QUEUE)
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    expect(job.attempts).toBe(1);
    expect(Date.parse(job.run_at) - now.getTime()).toBeLessThanOrEqual(30_000);
  });

  it('sends nothing when webhooks are off', async () => {
    const queue = new JobQueue(t.db, () => now);
    const off = new Webhooks({ queue, logger: createLogger('silent'), target: undefined, publicUrl: 'https://iqsp.example' });
    await off.emit(undefined, published('P5'));
    expect(await t.db.selectFrom('jobs').select('id').where('queue', '=', WEBHOOK_QUEUE).execute()).toEqual([]);
  });
});
