/**
 * Slash commands are acknowledged at once, and their work runs a few at a time, in the order the
 * commands came (receiver.ts, AfterAckQueue): a burst's acks do not wait behind the work of the
 * commands before them, and no command's work is lost or reordered (issue 19).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { AfterAckQueue, SlackReceiver } from '../../../src/bots/slack/receiver.js';
import { createLogger } from '../../../src/observability/logger.js';
import { commandRequest, sendToApp } from '../../simulators/slack.js';

const SECRET = 'command-queue-secret';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AfterAckQueue', () => {
  it('runs at most its concurrency at once, in order, and goes on after a failure', async () => {
    const queue = new AfterAckQueue(2);
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
});

describe('slash commands through the receiver', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  });

  it('acknowledges a burst at once while only a few commands work, then runs every one in order', async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const started: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const app = {
      processEvent: async (event: ReceiverEvent) => {
        await event.ack();
        const id = (event.body as { trigger_id: string }).trigger_id;
        started.push(id);
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await gates.get(id)!.promise;
        inFlight -= 1;
      },
    } as unknown as App;
    const logger = createLogger('silent');
    const receiver = new SlackReceiver({
      signingSecret: SECRET,
      logger,
      slackLogger: { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'info', setName() {} } as never,
      bodyLimitBytes: 1024 * 1024,
      drainMs: 5_000,
      claimSignature: () => Promise.resolve(true),
      commandConcurrency: 3,
    });
    receiver.init(app);
    server = createServer((req, res) => void receiver.handle(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const ids = Array.from({ length: 12 }, (_, i) => `trigger-${String(i).padStart(2, '0')}`);
    for (const id of ids) gates.set(id, deferred());
    // One after another, so the order of arrival is known; every ack comes while no work can finish.
    const acks: number[] = [];
    for (const id of ids) {
      const response = await sendToApp(url, SECRET, commandRequest('slash-command', { text: 'help', trigger_id: id }));
      acks.push(response.status);
    }
    expect(acks).toEqual(ids.map(() => 200));
    await turn();
    expect(started).toEqual(ids.slice(0, 3));

    for (const id of ids) gates.get(id)!.resolve();
    await receiver.idle();
    expect(started).toEqual(ids);
    expect(mostInFlight).toBe(3);
  });
});
