/**
 * Review (issue 19, acks first): commands held back by a flood when the app stops are abandoned,
 * and nothing of their work starts (that holds). But each person is told "IQSP is restarting"
 * by a response_url post that receiver.stop() fires and forgets (`tell`: `void
 * postToResponseUrl(...)`, not tracked): stop() resolves, the database closes and `iqsp serve`
 * exits (process.exit) while those posts are still on their way to Slack, whose hooks take a
 * few hundred ms to answer. The flood gate makes this the common case: every command of the
 * last second of a flood is waiting when a deploy stops the app. (The untracked tell predates
 * the gate; the gate multiplies the commands that depend on it.)
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SlackHarness } from '../bots/slack/harness.js';
import { commandRequest } from '../simulators/slack.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start({ surface: { drainMs: 1_000 } });
});
afterAll(async () => {
  vi.useRealTimers();
  await h?.close().catch(() => undefined);
});

it('stop() resolves only once every person whose command it abandoned has been told', async () => {
  // The queue's clock stands still: to it, the commands below arrive in one flood that never pauses.
  vi.useFakeTimers({ toFake: ['performance'] });
  // Slack's hooks answer in 200 ms.
  h.fake.faults.push({ kind: 'slow', ms: 200, times: 3, match: (method, path) => method === 'POST' && path.startsWith('/respond/') });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const responseUrl = h.fake.responseUrl();
    ids.push(responseUrl.split('/').pop()!);
    const ack = await h.send(commandRequest('slash-command', { text: 'help', response_url: responseUrl, trigger_id: `t-flood-${i}` }));
    expect(ack.status).toBe(200);
  }
  // Their claims are written (a few ms); the flood gate keeps their work from starting.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const usersInfoBefore = h.calls('users.info').length;

  await h.running.stop('deploy');
  // What `iqsp serve` has delivered when it exits now.
  const told = ids.filter((id) => h.fake.responses.some((r) => r.id === id && /restarting/.test(String(r.body.text))));
  // No abandoned command's work began.
  expect(h.calls('users.info').length).toBe(usersInfoBefore);
  expect(told).toEqual(ids);
}, 20_000);
