/**
 * Review (issue 19): head-of-line blocking in the AfterAckQueue. Eight commands waiting on a slow
 * network (here response_url posts that hang; the app allows them 30 s, and a WebClient call 30 s
 * per try) hold all eight places, and every later command waits behind them, whatever it is.
 * `/iqsp post` opens its modal with views.open and the command's trigger_id, which Slack honours
 * for 3 seconds only (post-form.ts says so): queued behind them, the modal cannot open
 * (expired_trigger_id in production), and the person who typed it sees nothing.
 */
import { afterAll, expect, it } from 'vitest';
import { SlackHarness, until } from '../bots/slack/harness.js';
import { commandRequest } from '../simulators/slack.js';

let h: SlackHarness | undefined;
afterAll(async () => {
  await h?.close();
});

it("`/iqsp post` opens its modal within the trigger_id's 3 seconds while eight earlier commands wait on the network", async () => {
  h = await SlackHarness.start({ surface: { drainMs: 100 } });
  await h.seedAccounts();
  h.fake.faults.push({ kind: 'hang', times: 8, match: (method, path) => method === 'POST' && path.startsWith('/respond/') });
  for (let i = 0; i < 8; i++) {
    const response = await h.send(
      commandRequest('slash-command', { text: 'help', response_url: h.fake.responseUrl(), trigger_id: `t-hung-${i}` }),
    );
    expect(response.status).toBe(200);
  }
  await until(() => h!.fake.requests.filter((r) => r.fault === 'hang').length === 8, 'eight hung response_url posts');

  const acked = Date.now();
  const response = await h.send(
    commandRequest('slash-command', { text: 'post', response_url: h.fake.responseUrl(), trigger_id: 't-post' }),
  );
  expect(response.status).toBe(200);
  // Slack's trigger_id is good for 3 s after the command; leave the modal half a second to spare.
  const opened = await h.fake.waitForCall('views.open', (c) => c.args.trigger_id === 't-post', 2_500).catch(() => undefined);
  expect(opened, `views.open for the post command had not been called ${Date.now() - acked} ms after its ack`).toBeDefined();
}, 20_000);
