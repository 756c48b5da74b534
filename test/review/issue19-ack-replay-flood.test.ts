/**
 * Review (issue 19): a replayed slash command is acknowledged, and its claim (refused at once
 * from DeliveryClaims' memory) is known within a turn, yet the replay still takes a place in the
 * AfterAckQueue and is only dropped when its turn comes. While the eight running commands wait on
 * the network (30 s timeouts), every replay of one captured signed request (valid for 5 minutes)
 * adds to the queue: memory grows with the flood, without bound, and the replays stand in line
 * before the genuine commands that arrive after them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, expect, it } from 'vitest';
import { SlackReceiver } from '../../src/bots/slack/receiver.js';
import { DeliveryClaims } from '../../src/core/delivery-claims.js';
import { createLogger } from '../../src/observability/logger.js';
import { commandRequest, sendToApp } from '../simulators/slack.js';

const SECRET = 'replay-flood-secret';
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

it('replays of a command already claimed take no place in the queue while the running commands wait', async () => {
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  const processed: string[] = [];
  const taken = new Set<string>();
  // What core.inbound.claimDelivery is: batched inserts, with the recent keys remembered.
  const claims = new DeliveryClaims(async (keys) => new Set(keys.filter((k) => !taken.has(k) && Boolean(taken.add(k)))));
  const receiver = new SlackReceiver({
    signingSecret: SECRET,
    logger: createLogger('silent'),
    slackLogger: { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'info', setName() {} } as never,
    bodyLimitBytes: 1024 * 1024,
    drainMs: 100,
    claimSignature: (hash) => claims.claim(hash),
  });
  receiver.init({
    processEvent: async (event: ReceiverEvent) => {
      await event.ack();
      processed.push((event.body as { trigger_id: string }).trigger_id);
      await hung; // users.info or the response_url taking its 30 s
    },
  } as unknown as App);
  server = createServer((req, res) => void receiver.handle(req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  for (let i = 0; i < 8; i++) await sendToApp(url, SECRET, commandRequest('slash-command', { text: 'help', trigger_id: `busy-${i}` }));
  await expect.poll(() => processed.length).toBe(8);

  // One captured signed command, sent 300 times within its 5 minutes.
  const captured = commandRequest('slash-command', { text: 'help', trigger_id: 'captured' });
  const timestamp = Math.floor(Date.now() / 1000);
  await sendToApp(url, SECRET, captured, { timestamp }); // its first sight here: claimed, then queued
  await new Promise((resolve) => setImmediate(resolve));
  const replays = 300;
  for (let i = 0; i < replays; i += 50)
    await Promise.all(Array.from({ length: 50 }, () => sendToApp(url, SECRET, captured, { timestamp }).then((r) => r.text())));
  // Every replay's claim has been answered (false) by now.
  await new Promise((resolve) => setTimeout(resolve, 20));

  const queued = (receiver as unknown as { commands: { queued: number } }).commands.queued;
  release();
  await receiver.idle();
  expect(processed.filter((id) => id === 'captured')).toHaveLength(1); // the replays are dropped in the end...
  // ...but only the one fresh command should have waited for a place: the replays were known to be replays.
  expect(queued).toBeLessThanOrEqual(1);
}, 20_000);
