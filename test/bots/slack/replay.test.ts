/**
 * Finding 12 (issue 13): a captured signed Slack request replayed within the 5-minute window
 * acts once, on one instance or across instances sharing the database. A replay is answered
 * with an empty 200 (Slack never sends the same signature twice — its retries are signed
 * afresh — so a repeat is a replay or a duplicated delivery of a request already handled; a
 * 2xx makes neither a retry nor a failure Slack counts against the app) and nothing happens.
 * Finding 16 (the Slack half): a signed form whose `payload` is not a JSON object is a 400, not a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHash } from '../../../src/bots/slack/receiver.js';
import { commandRequest, eventRequest, slackSignature, type SlackRequest } from '../../simulators/slack.js';
import { SIGNING_SECRET, SlackHarness } from './harness.js';

let h: SlackHarness;

beforeAll(async () => {
  h = await SlackHarness.start();
});
afterAll(async () => {
  await h?.close();
});

async function connectLinks(): Promise<number> {
  return (
    await h.db
      .selectFrom('connect_links')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;
}

describe('replayed Slack requests', () => {
  it('a signed `/iqsp connect x` sent 4 times (the request and 3 replays) gives 1 connect link; the replays get an empty 200', async () => {
    const before = await connectLinks();
    const responseUrl = h.fake.responseUrl();
    const request = commandRequest('slash-command', { text: 'connect x', response_url: responseUrl, trigger_id: 'trigger-replay-1' });
    const timestamp = Math.floor(Date.now() / 1000);
    const statuses: number[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await h.send(request, { timestamp });
      statuses.push(response.status);
      bodies.push(await response.text());
      await h.surface.settled();
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(bodies).toEqual(['', '', '', '']);
    expect((await connectLinks()) - before).toBe(1);
    const id = responseUrl.split('/').pop();
    expect(h.fake.responses.filter((r) => r.id === id)).toHaveLength(1);
    // Remembered by its hash only.
    const signature = slackSignature(SIGNING_SECRET, timestamp, request.body);
    const rows = await h.db.selectFrom('chat_events').select('id').where('id', 'like', 'slack:signature:%').execute();
    expect(rows.map((r) => r.id)).toContain(`slack:signature:${signatureHash(signature)}`);
    expect(JSON.stringify(rows)).not.toContain(signature.slice(3));
    expect(h.logs.join('')).toMatch(/its signature was seen before/);
  });

  it('a replay to another instance on the same database acts no more', async () => {
    const other = await h.anotherInstance();
    try {
      const before = await connectLinks();
      const request = commandRequest('slash-command', {
        text: 'connect x',
        response_url: h.fake.responseUrl(),
        trigger_id: 'trigger-replay-2',
      });
      const timestamp = Math.floor(Date.now() / 1000);
      expect((await h.send(request, { timestamp })).status).toBe(200);
      await h.surface.settled();
      for (let i = 0; i < 3; i++) {
        const response = await other.send(request, { timestamp });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('');
      }
      await other.surface.settled();
      expect((await connectLinks()) - before).toBe(1);
    } finally {
      await other.running.stop('test over');
    }
  });

  it('a Slack retry, signed afresh with X-Slack-Retry-Num, is still answered, and its event acts once (event_id)', async () => {
    const before = await connectLinks();
    const event = eventRequest('event-app-mention', {
      event_id: 'Ev0REPLAY01',
      event: { text: '<@U0BOT> connect x', ts: '1700009000.000100', event_ts: '1700009000.000100' },
    });
    const now = Math.floor(Date.now() / 1000);
    expect((await h.send(event, { timestamp: now - 2 })).status).toBe(200);
    await h.surface.settled();
    expect((await h.send(event, { timestamp: now, retryNum: 1 })).status).toBe(200);
    await h.surface.settled();
    expect((await connectLinks()) - before).toBe(1);
    // A retry whose first delivery never arrived is acted on.
    const lost = eventRequest('event-app-mention', {
      event_id: 'Ev0REPLAY02',
      event: { text: '<@U0BOT> connect x', ts: '1700009001.000100', event_ts: '1700009001.000100' },
    });
    expect((await h.send(lost, { retryNum: 2 })).status).toBe(200);
    await h.surface.settled();
    expect((await connectLinks()) - before).toBe(2);
  });
});

describe('a signed form whose payload is not a JSON object', () => {
  const form = (payload: string): SlackRequest => ({
    kind: 'interactive',
    body: `payload=${encodeURIComponent(payload)}`,
    contentType: 'application/x-www-form-urlencoded',
  });

  it.each(['null', '"text"', '42', '[1,2]', 'true'])('payload=%s answers 400, and the service keeps serving', async (payload) => {
    const response = await h.send(form(payload));
    expect(response.status).toBe(400);
    const { response: help } = await h.command('help');
    expect(help.status).toBe(200);
  });

  it('a JSON body of null answers 400', async () => {
    const response = await h.send({ kind: 'event', body: 'null', contentType: 'application/json' });
    expect(response.status).toBe(400);
  });
});
