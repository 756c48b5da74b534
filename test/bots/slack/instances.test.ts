/**
 * Slack's deliveries reach whichever instance the load balancer picks: a retry of an event
 * can land on another instance than the first delivery, and the `message` and `app_mention`
 * twins of one message on two different ones. Each still acts once, because the claim of a
 * delivery is an insert into the shared `chat_events` table that only one instance wins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRequest } from '../../simulators/slack.js';
import { onPostgres, POSTGRES_ONLY } from '../../helpers/db.js';
import { SlackHarness, until } from './harness.js';

describe.skipIf(!onPostgres)(`Slack deliveries on two instances (${POSTGRES_ONLY})`, () => {
  let h: SlackHarness;
  let b: Awaited<ReturnType<SlackHarness['anotherInstance']>>;
  beforeAll(async () => {
    h = await SlackHarness.start();
    b = await h.anotherInstance();
  });
  afterAll(async () => {
    await b?.running.stop('test over');
    await h?.close();
  });

  const settled = () => Promise.all([h.surface.settled(), b.surface.settled()]);

  it('a retry delivered to the other instance, at the same moment, acts once', async () => {
    const before = h.calls('chat.postEphemeral').length;
    const events = Array.from({ length: 20 }, (_, i) => ({
      event_id: `Ev0SPLIT${String(i).padStart(3, '0')}`,
      event: {
        text: '<@U0BOT> help',
        ts: `1700002${String(i).padStart(3, '0')}.000100`,
        event_ts: `1700002${String(i).padStart(3, '0')}.000100`,
      },
    }));
    const responses = await Promise.all(
      events.flatMap((event) => [
        h.send(eventRequest('event-app-mention', event)),
        b.send(eventRequest('event-app-mention', event), { retryNum: 1 }),
      ]),
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    await until(() => h.calls('chat.postEphemeral').length >= before + events.length, 'a reply per event');
    await settled();
    expect(h.calls('chat.postEphemeral').length - before).toBe(events.length);
  });

  it('the `message` and `app_mention` twins of one message, on two instances, act once', async () => {
    const before = h.calls('chat.postEphemeral').length;
    const messages = Array.from({ length: 20 }, (_, i) => `1700003${String(i).padStart(3, '0')}.000100`);
    await Promise.all(
      messages.flatMap((ts, i) => [
        h.send(eventRequest('event-message', { event_id: `Ev0TWINA${i}`, event: { text: '<@U0BOT> accounts', ts, event_ts: ts } })),
        b.send(eventRequest('event-app-mention', { event_id: `Ev0TWINB${i}`, event: { text: '<@U0BOT> accounts', ts, event_ts: ts } })),
      ]),
    );
    await until(() => h.calls('chat.postEphemeral').length >= before + messages.length, 'a reply per message');
    await settled();
    expect(h.calls('chat.postEphemeral').length - before).toBe(messages.length);
  });
});
