/**
 * A Slack receiver served over HTTP whose claims are core.inbound's (DeliveryClaims over a
 * database), with a generous pause (every flood is acknowledged before anything is claimed), and
 * the response_url words each command's person was told; for the issue 19 reviews of claims made
 * in a command's turn (test/review/issue19-s30-claims-*).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, ReceiverEvent } from '@slack/bolt';
import { SlackReceiver } from '../../src/bots/slack/receiver.js';
import { DeliveryClaims } from '../../src/core/delivery-claims.js';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import type { Db } from '../../src/db/database.js';
import { createLogger } from '../../src/observability/logger.js';
import { commandRequest } from '../simulators/slack.js';

export const QUIET = { quietMs: 400, maxWaitMs: 60_000 };

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Each instance's server goes into `servers` (the caller closes them). */
export async function claimsInstance(secret: string, servers: Server[], db: Db, run: (id: string) => Promise<void>, concurrency = 8) {
  const claims = new DeliveryClaims((keys) => claimDeliveries(db, keys));
  const told = new Map<string, string[]>();
  const receiver = new SlackReceiver({
    signingSecret: secret,
    logger: createLogger('silent'),
    slackLogger: { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'info', setName() {} } as never,
    bodyLimitBytes: 1024 * 1024,
    drainMs: 5_000,
    claimSignature: (hash) => claims.claim(`signature:${hash}`),
    commandConcurrency: concurrency,
    commandPause: QUIET,
  });
  receiver.init({
    processEvent: async (event: ReceiverEvent) => {
      await event.ack();
      await run((event.body as { trigger_id: string }).trigger_id);
    },
  } as unknown as App);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/respond/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = req.url!.slice('/respond/'.length);
        told.set(id, [...(told.get(id) ?? []), (JSON.parse(Buffer.concat(chunks).toString()) as { text: string }).text]);
        res.end('ok');
      });
      return;
    }
    void receiver.handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const command = (id: string) => commandRequest('slash-command', { text: 'help', trigger_id: id, response_url: `${url}/respond/${id}` });
  return { url, receiver, told, command };
}
