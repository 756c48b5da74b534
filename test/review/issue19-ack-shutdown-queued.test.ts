/**
 * Review (issue 19): a slash command acknowledged (empty 200) and claimed, but still waiting its
 * turn in the AfterAckQueue when the app stops, is started after receiver.stop() has given up
 * (drainMs) and the database has been destroyed. Its work then fails against the closed database:
 * Slack had its 200 (it never retries a command), the signature is claimed, and for `/iqsp post`
 * the person is told nothing at all. Before the queue every acknowledged command had started
 * before stop(); now work that never began is begun after the database closed.
 */
import { afterAll, expect, it } from 'vitest';
import { SlackHarness, until } from '../bots/slack/harness.js';
import { commandRequest } from '../simulators/slack.js';

let h: SlackHarness | undefined;
afterAll(async () => {
  await h?.close();
});

it('a command still queued when the app stops is not begun against the closed database, and its person is told', async () => {
  h = await SlackHarness.start({ surface: { drainMs: 100 } });
  // Eight commands whose reply through the response_url is slow (1.5 s; the app allows 30 s):
  // they hold the queue's eight places past drainMs (10 s in production, 100 ms here).
  h.fake.faults.push({ kind: 'slow', ms: 1_500, times: 8, match: (method, path) => method === 'POST' && path.startsWith('/respond/') });
  for (let i = 0; i < 8; i++) {
    const response = await h.send(
      commandRequest('slash-command', { text: 'help', response_url: h.fake.responseUrl(), trigger_id: `t-slow-${i}` }),
    );
    expect(response.status).toBe(200);
  }
  await until(() => h!.fake.requests.filter((r) => r.fault === 'slow').length === 8, 'eight slow response_url posts');

  // A ninth command, `/iqsp post`: acknowledged at once, claimed, queued.
  const ninth = h.fake.responseUrl();
  const ack = await h.send(commandRequest('slash-command', { text: 'post', response_url: ninth, trigger_id: 't-ninth' }));
  expect(ack.status).toBe(200);

  // The app stops: drainMs passes, the HTTP server closes, the database is destroyed.
  await h.running.stop('deploy');
  // The slow replies land and the queue moves on.
  await until(() => h!.fake.responses.length >= 8, 'the eight replies', 5_000);
  await h.surface.settled();

  // The ninth person, whose command was acknowledged, hears something (a form or a reply)...
  const id = ninth.split('/').pop();
  const told = h.fake.responses.some((r) => r.id === id) || h.calls('views.open').some((c) => c.args.trigger_id === 't-ninth');
  expect(told).toBe(true);
  // ...and nothing is begun against the destroyed database.
  expect(h.logs.join('')).not.toMatch(/driver has already been destroyed/);
}, 20_000);
