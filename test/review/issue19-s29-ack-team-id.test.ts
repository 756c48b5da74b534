/**
 * Review (issue 19, the command runner): Bolt gave a command's listener a WebClient made for the
 * workspace it authorised (`teamId` in its options), and that client names the workspace
 * (`team_id`) in every Web API call: with an org-wide (Enterprise Grid) token, the workspace a
 * call is about. The runner hands the command code the shared client with only a token, so the
 * calls made with it (views.open for `/iqsp post`, the chat.postEphemeral / postMessage fallback
 * when the response_url is spent) no longer say which workspace they are for. Before the runner
 * (Bolt's chain), and still in Socket Mode, they did. (users.info goes through SlackPeople's
 * shared client either way.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SlackHarness } from '../bots/slack/harness.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start();
});
afterAll(async () => {
  await h?.close();
});

it("a slash command's post form is opened for its workspace, as Bolt's client did", async () => {
  await h.seedAccounts();
  await h.command('post hello', { trigger_id: 't-team-id' });
  expect(h.calls('views.open').at(-1)?.args).toMatchObject({ trigger_id: 't-team-id', team_id: 'T0001' });
});
