/**
 * A mention a person typed never pings (issue 14): a caption with `<@U0ATTACKER>` or
 * `<#C0SECRET>` reaches the approval message escaped, shown as typed, while the requester
 * mention IQSP writes stays a real `<@U…>`. The core says who it names as segments, so Slack
 * can tell its own mentions from typed ones; an unknown command echoing a typed mention too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SlackHarness } from './harness.js';

let h: SlackHarness;

beforeAll(async () => {
  h = await SlackHarness.start();
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

const CAPTION = 'Launch <@U0ATTACKER> <@U0BOSS|boss> in <#C0SECRET>';
const SHOWN = 'Launch &lt;@U0ATTACKER&gt; &lt;@U0BOSS|boss&gt; in &lt;#C0SECRET&gt;';

describe('typed mentions in Slack messages stay literal', () => {
  it("a caption's typed mentions are escaped in the approval message; the requester is mentioned", async () => {
    const { response, approval: call, postId } = await h.submitTextPost(CAPTION);
    expect(response.status).toBe(200);
    const text = [
      `Post ${postId} from <@U0ALICE> needs 1 approval(s): react ✅ to approve, ❌ to reject.`,
      'Targets: X @acme',
      `Caption: ${SHOWN}`,
      'Media: none (text only)',
    ].join('\n');
    expect(call.args.text).toBe(text);
    expect(json(call.args.blocks)[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text } });
    for (const sent of h.fake.calls) expect(JSON.stringify(sent.args)).not.toMatch(/<@U0ATTACKER|<@U0BOSS|<#C0SECRET/);
  });

  it('a command echoing a typed mention answers it escaped', async () => {
    const { responseUrl } = await h.command('&lt;@U0ATTACKER&gt;');
    const reply = await h.replyTo(responseUrl);
    expect(reply.text).toBe('I don\'t know the command "&lt;@U0ATTACKER&gt;". Type `help` for the commands.');
  });
});
