/**
 * Finding 6 (issue 13), Slack: user text — a caption, an account's name — never becomes chat
 * markup in what the bot sends. `<!channel>`, `<!subteam^…>` and `<https://evil|Approve>` typed
 * into the post modal used to reach the approval message as a real @channel ping, a group ping
 * and a disguised link. The exact payloads the fake Slack received are asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SlackHarness } from './harness.js';

let h: SlackHarness;

beforeAll(async () => {
  h = await SlackHarness.start();
  const { x } = await h.seedAccounts();
  // An account's name comes from the platform: user text too.
  await h.db.updateTable('social_accounts').set({ handle: 'acme<!here>' }).where('id', '=', x.id).execute();
});
afterAll(async () => {
  await h?.close();
});

const CAPTION = 'Launch <!channel> <!subteam^S0ADMINS|@admins> <https://evil.example/login|Approve> & <!date^1392734382^{date}|x>';
const SHOWN =
  'Launch &lt;!channel&gt; &lt;!subteam^S0ADMINS|@admins&gt; &lt;https://evil.example/login|Approve&gt; &amp; &lt;!date^1392734382^{date}|x&gt;';

describe('user text in Slack messages stays literal', () => {
  it('a caption and an account name with broadcast, group and link markup reach the approval message escaped, in text and blocks', async () => {
    const { response, approval: call, postId } = await h.submitTextPost(CAPTION);
    expect(response.status).toBe(200);
    const text = [
      `Post ${postId} from <@U0ALICE> needs 1 approval(s): react ✅ to approve, ❌ to reject.`,
      'Targets: X @acme&lt;!here&gt;',
      `Caption: ${SHOWN}`,
      'Media: none (text only)',
    ].join('\n');
    expect(call.args.text).toBe(text);
    expect(json(call.args.blocks)).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Post*\n${postId}` },
          { type: 'mrkdwn', text: '*Targets*\nX @acme&lt;!here&gt;' },
          { type: 'mrkdwn', text: '*Media*\nnone (text only)' },
        ],
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'approve_post', text: { type: 'plain_text', text: 'Approve' }, value: postId, style: 'primary' },
          { type: 'button', action_id: 'reject_post', text: { type: 'plain_text', text: 'Reject' }, value: postId, style: 'danger' },
          // For the requester (issue 16).
          { type: 'button', action_id: 'edit_post', text: { type: 'plain_text', text: 'Edit' }, value: postId },
        ],
      },
    ]);
    // Nothing the bot sent anywhere carries the markup unescaped.
    for (const sent of h.fake.calls) expect(JSON.stringify(sent.args)).not.toMatch(/<!channel>|<!subteam|<https:\/\/evil|<!here>|<!date/);
  });

  it('a command echoing user text (an unknown command) answers it escaped', async () => {
    // Slack escapes what people type: `<!channel>` arrives as `&lt;!channel&gt;`.
    const { responseUrl } = await h.command('&lt;!channel&gt;');
    const reply = await h.replyTo(responseUrl);
    expect(reply.text).toBe('I don\'t know the command "&lt;!channel&gt;". Type `help` for the commands.');
    expect(reply.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: reply.text } }]);
  });
});
