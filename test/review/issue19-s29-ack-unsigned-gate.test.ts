/**
 * Review (issue 19, acks first): the receiver marks every request as an arrival
 * (`commands.arrived()`) before its signature is checked, so requests that are refused with 401
 * hold back the work of genuine commands. Anyone who can reach `POST /slack/events`, with no
 * secret at all, keeps every command's reply (and every `/iqsp post` form, a second of its
 * trigger_id's three) back by the full maxWaitMs by sending a junk request every 2 ms, about 500
 * cheap 401s a second, for as long as they like. The contract: a request with a bad signature
 * "gets 401 and changes nothing", the signature checked before anything else.
 *
 * The queue's clock (performance.now) is faked and moved 2 ms per unsigned request, so "a junk
 * request every 2 ms" is exact whatever the machine's speed; nothing else in the app reads it.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SlackHarness } from '../bots/slack/harness.js';
import { commandRequest, eventRequest } from '../simulators/slack.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start();
});
afterAll(async () => {
  vi.useRealTimers();
  await h?.close();
});

it('requests refused for their signature do not hold back the work of acknowledged commands', async () => {
  vi.useFakeTimers({ toFake: ['performance'] });
  const responseUrl = h.fake.responseUrl();
  const id = responseUrl.split('/').pop();
  const ack = await h.send(commandRequest('slash-command', { text: 'help', response_url: responseUrl }));
  expect(ack.status).toBe(200);

  // 200 ms of junk: a request every 2 ms, each with a signature the app refuses.
  const junk = eventRequest('event-app-mention');
  for (let i = 0; i < 100; i++) {
    vi.advanceTimersByTime(2);
    const refused = await h.send(junk, { signature: 'v0=0000000000000000000000000000000000000000000000000000000000000000' });
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
  }

  // Nothing genuine has arrived for 200 ms: the command's work should have started and its
  // reply arrived (a few ms of real time). The queue's clock stays where it is meanwhile
  // (expect.poll would move a faked clock, so the wait is a plain loop on real timers).
  const deadline = Date.now() + 2_000;
  while (!h.fake.responses.some((r) => r.id === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(h.fake.responses.some((r) => r.id === id)).toBe(true);
}, 20_000);
