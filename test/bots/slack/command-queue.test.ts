/**
 * Slash commands are acknowledged at once, and their work runs a few at a time, in the order the
 * commands came (receiver.ts, AfterAckQueue): a burst's acks do not wait behind the work (nor the
 * claims) of the commands before them, and no command's work is lost or reordered (issue 19).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AfterAckQueue } from '../../../src/bots/slack/after-ack-queue.js';
import { SlackReceiver, signatureHash } from '../../../src/bots/slack/receiver.js';
import { createLogger } from '../../../src/observability/logger.js';
import { commandRequest, sendToApp, slackSignature } from '../../simulators/slack.js';

const SECRET = 'command-queue-secret';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AfterAckQueue', () => {
  it('runs at most its concurrency at once, in order, and goes on after a failure', async () => {
    const queue = new AfterAckQueue(2, 60_000);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const done = gates.map((gate, i) =>
      queue.run(async () => {
        started.push(i);
        await gate.promise;
        if (i === 0) throw new Error('the first job fails');
      }),
    );
    // Nothing starts in the turn it was queued.
    expect(started).toEqual([]);
    await turn();
    expect(started).toEqual([0, 1]);
    expect(queue.queued).toBe(3);
    gates[0]!.resolve();
    await done[0];
    await turn();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await Promise.all(done);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(queue.queued).toBe(0);
  });

  it('holds jobs as objects: settles once every job ran or was abandoned, and abandons at once once closed', async () => {
    const queue = new AfterAckQueue(1, 60_000);
    const gate = deferred();
    const seen: string[] = [];
    const job = (name: string, work: () => Promise<void> = async () => undefined) => ({
      run: async () => {
        seen.push(`run ${name}`);
        await work();
      },
      abandon: () => void seen.push(`abandon ${name}`),
    });
    queue.push(job('a', () => gate.promise));
    queue.push(job('b'));
    expect(queue.busy).toBe(true);
    let settled = false;
    void queue.settled().then(() => (settled = true));
    await turn();
    expect(seen).toEqual(['run a']);
    queue.close();
    expect(seen).toEqual(['run a', 'abandon b']);
    await turn();
    // The running job is still running: not settled until it ends.
    expect(settled).toBe(false);
    gate.resolve();
    await expect.poll(() => settled).toBe(true);
    expect(queue.busy).toBe(false);
    queue.push(job('c'));
    expect(seen).toEqual(['run a', 'abandon b', 'abandon c']);
  });

  describe('acks first', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A queue on the fake clock with three jobs (when each started, in ms), and a flood: a request every millisecond for `ms`. */
    function flooded() {
      const queue = new AfterAckQueue(2, 60_000, { quietMs: 3, maxWaitMs: 1_000, now: () => Date.now() });
      const queuedAt = Date.now();
      const started: Array<[job: number, atMs: number]> = [];
      const jobs = [0, 1, 2].map((i) =>
        queue.run(async () => {
          started.push([i, Date.now() - queuedAt]);
        }),
      );
      const flood = async (ms: number) => {
        for (let t = 0; t < ms; t += 1) {
          queue.arrived();
          await vi.advanceTimersByTimeAsync(1);
        }
      };
      return { queue, started, jobs, flood };
    }

    it('waiting work starts once the requests pause, not while they keep coming', async () => {
      const { started, jobs, flood } = flooded();
      await flood(200);
      expect(started).toEqual([]);
      // The last request came 1 ms ago (the flood's last step); 2 ms without one is not yet a pause.
      await vi.advanceTimersByTimeAsync(1);
      expect(started).toEqual([]);
      // 3 ms without a request: the work starts, in order, as many at once as allowed, then the third.
      await vi.advanceTimersByTimeAsync(1);
      expect(started).toEqual([
        [0, 202],
        [1, 202],
      ]);
      await vi.advanceTimersByTimeAsync(1);
      await Promise.all(jobs);
      expect(started.map(([job]) => job)).toEqual([0, 1, 2]);
    });

    it('a flood delays work by at most maxWaitMs', async () => {
      const { started, jobs, flood } = flooded();
      await flood(999);
      expect(started).toEqual([]);
      await flood(500);
      await Promise.all(jobs);
      // The first two when the oldest had waited 1 s; the third as soon as a place was free.
      expect(started.slice(0, 2)).toEqual([
        [0, 1_000],
        [1, 1_000],
      ]);
      expect(started[2]![0]).toBe(2);
      expect(started[2]![1]).toBeLessThanOrEqual(1_001);
    });

    it('closing abandons the work still held back by a flood', async () => {
      const { queue, started, jobs, flood } = flooded();
      await flood(50);
      queue.close();
      await Promise.all(jobs);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(started).toEqual([]);
      expect(queue.queued).toBe(0);
    });
  });
});

describe('slash commands through the receiver', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  });

  async function serve(options: {
    processEvent: (event: ReceiverEvent) => Promise<void>;
    claimSignature?: (hash: string) => Promise<boolean>;
    signatureKnown?: (hash: string) => boolean;
    quietMs?: number;
  }): Promise<{ url: string; receiver: SlackReceiver }> {
    const receiver = new SlackReceiver({
      signingSecret: SECRET,
      logger: createLogger('silent'),
      slackLogger: { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'info', setName() {} } as never,
      bodyLimitBytes: 1024 * 1024,
      drainMs: 5_000,
      claimSignature: options.claimSignature ?? (() => Promise.resolve(true)),
      commandConcurrency: 3,
      ...(options.signatureKnown && { signatureKnown: options.signatureKnown }),
      ...(options.quietMs !== undefined && { commandPause: { quietMs: options.quietMs } }),
    });
    receiver.init({ processEvent: options.processEvent } as unknown as App);
    server = createServer((req, res) => {
      if (req.url === '/respond') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          replies.push(JSON.parse(Buffer.concat(chunks).toString()) as { text: string; response_type: string });
          res.end('ok');
        });
        return;
      }
      void receiver.handle(req, res);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, receiver };
  }
  let replies: Array<{ text: string; response_type: string }> = [];

  it('acknowledges before the delivery is claimed: a claim still on its way holds the work, not the ack', async () => {
    const claim = deferred();
    let processed = 0;
    const { url, receiver } = await serve({
      processEvent: async (event) => {
        await event.ack();
        processed += 1;
      },
      claimSignature: () => claim.promise.then(() => true),
    });
    const response = await sendToApp(url, SECRET, commandRequest('slash-command', { text: 'help' }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    await turn();
    expect(processed).toBe(0);
    claim.resolve();
    await receiver.idle();
    expect(processed).toBe(1);
  });

  it('claims nothing while commands keep coming: each is claimed in its turn, before its work, in order', async () => {
    const events: string[] = [];
    const { url, receiver } = await serve({
      // Requests under a second apart are a flood here, so the test does not race the clock.
      quietMs: 1_000,
      processEvent: async (event) => {
        await event.ack();
        events.push(`run ${(event.body as { trigger_id: string }).trigger_id}`);
      },
      claimSignature: (hash) => {
        events.push(`claim ${hash.slice(0, 8)}`);
        return Promise.resolve(true);
      },
    });
    const hashes: string[] = [];
    for (const id of ['t1', 't2', 't3']) {
      const timestamp = Math.floor(Date.now() / 1000);
      const request = commandRequest('slash-command', { text: 'help', trigger_id: id });
      const response = await sendToApp(url, SECRET, request, { timestamp });
      expect(response.status).toBe(200);
      hashes.push(signatureHash(slackSignature(SECRET, timestamp, request.body)).slice(0, 8));
    }
    // Every ack is out and no claim was written: no database write while the commands kept coming.
    expect(events).toEqual([]);
    await receiver.idle();
    expect(events.filter((e) => e.startsWith('claim'))).toEqual(hashes.map((h) => `claim ${h}`));
    // Each command's claim comes before its work.
    for (const [i, id] of ['t1', 't2', 't3'].entries())
      expect(events.indexOf(`claim ${hashes[i]}`)).toBeLessThan(events.indexOf(`run ${id}`));
  });

  it('drops a replay known at its ack (waiting for its turn, or claimed lately) without a place in the queue', async () => {
    const claims: string[] = [];
    let processed = 0;
    const { url, receiver } = await serve({
      quietMs: 1_000,
      processEvent: async (event) => {
        await event.ack();
        processed += 1;
      },
      claimSignature: (hash) => (claims.push(hash), Promise.resolve(true)),
      signatureKnown: (hash) => hash === signatureHash(slackSignature(SECRET, lately.timestamp, lately.request.body)),
    });
    const queued = () => (receiver as unknown as { commands: { queued: number } }).commands.queued;
    const lately = {
      request: commandRequest('slash-command', { text: 'help', trigger_id: 'lately' }),
      timestamp: Math.floor(Date.now() / 1000),
    };
    expect((await sendToApp(url, SECRET, lately.request, { timestamp: lately.timestamp })).status).toBe(200);
    expect(queued()).toBe(0);
    const waiting = commandRequest('slash-command', { text: 'help', trigger_id: 'waiting' });
    const timestamp = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) expect((await sendToApp(url, SECRET, waiting, { timestamp })).status).toBe(200);
    expect(queued()).toBe(1);
    await receiver.idle();
    expect(claims).toHaveLength(1);
    expect(processed).toBe(1);
  });

  it('runs nothing when the claim fails, and tells the person through the response_url', async () => {
    replies = [];
    let processed = 0;
    const { url, receiver } = await serve({
      processEvent: async () => {
        processed += 1;
      },
      claimSignature: () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error')),
    });
    const response = await sendToApp(url, SECRET, commandRequest('slash-command', { text: 'help', response_url: `${url}/respond` }));
    expect(response.status).toBe(200);
    await receiver.idle();
    expect(processed).toBe(0);
    await expect.poll(() => replies).toHaveLength(1);
    expect(replies[0]!.response_type).toBe('ephemeral');
    expect(replies[0]!.text).toMatch(/could not take this command.*Nothing was run; try again/);
    expect(replies[0]!.text).not.toMatch(/SQLITE|disk/);
  });

  it('drops a replay after its ack: the same signed command twice runs once', async () => {
    const claimed = new Set<string>();
    let processed = 0;
    const { url, receiver } = await serve({
      processEvent: async (event) => {
        await event.ack();
        processed += 1;
      },
      claimSignature: (hash) => Promise.resolve(!claimed.has(hash) && Boolean(claimed.add(hash))),
    });
    const request = commandRequest('slash-command', { text: 'help' });
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await sendToApp(url, SECRET, request, { timestamp });
    const replay = await sendToApp(url, SECRET, request, { timestamp });
    expect([first.status, replay.status]).toEqual([200, 200]);
    await receiver.idle();
    expect(processed).toBe(1);
  });

  it('acknowledges a burst at once while only a few commands work, then runs every one in order', async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const started: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const { url, receiver } = await serve({
      processEvent: async (event: ReceiverEvent) => {
        await event.ack();
        const id = (event.body as { trigger_id: string }).trigger_id;
        started.push(id);
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await gates.get(id)!.promise;
        inFlight -= 1;
      },
    });

    const ids = Array.from({ length: 12 }, (_, i) => `trigger-${String(i).padStart(2, '0')}`);
    for (const id of ids) gates.set(id, deferred());
    // One after another, so the order of arrival is known; every ack comes while no work can finish.
    const acks: number[] = [];
    for (const id of ids) {
      const response = await sendToApp(url, SECRET, commandRequest('slash-command', { text: 'help', trigger_id: id }));
      acks.push(response.status);
    }
    expect(acks).toEqual(ids.map(() => 200));
    // Once the requests pause (AfterAckQueue's quiet time), the first three start, and no more.
    await expect.poll(() => started).toEqual(ids.slice(0, 3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toEqual(ids.slice(0, 3));

    for (const id of ids) gates.get(id)!.resolve();
    await receiver.idle();
    expect(started).toEqual(ids);
    expect(mostInFlight).toBe(3);
  });
});
