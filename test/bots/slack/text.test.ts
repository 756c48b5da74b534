/** Slack's text formats: what people typed, in; the core's words as mrkdwn, out; Block Kit rendering. */
import { describe, expect, it } from 'vitest';
import { toSlackMessage } from '../../../src/bots/slack/blocks.js';
import { withoutMention } from '../../../src/bots/slack/listeners.js';
import { chunks, fromSlackText, toMrkdwn } from '../../../src/bots/slack/text.js';
import { channelRef, mention, rich } from '../../../src/core/ports/rich-text.js';

describe('fromSlackText', () => {
  it('unescapes what Slack escaped and keeps user mentions for the grammar', () => {
    expect(fromSlackText('post x Fish &amp; chips &lt;3 &gt; all')).toBe('post x Fish & chips <3 > all');
    expect(fromSlackText('approvers add <@U0BOB|bob> <@W0CAROL>')).toBe('approvers add <@U0BOB|bob> <@W0CAROL>');
  });

  it('turns links, channels and special mentions back into what was typed', () => {
    expect(fromSlackText('see <http://example.com|example.com> and <https://acme.test/a?b=1>')).toBe(
      'see example.com and https://acme.test/a?b=1',
    );
    expect(fromSlackText('<https://acme.test/launch|our launch page>')).toBe('our launch page (https://acme.test/launch)');
    expect(fromSlackText('in <#C0GENERAL|general> <!here> <mailto:a@acme.test|a@acme.test>')).toBe('in #general @here a@acme.test');
  });
});

describe('toMrkdwn', () => {
  it('escapes control characters in all text but writes the mentions and channels the core puts in as segments', () => {
    expect(toMrkdwn(rich`Post ABC from ${mention('U0ALICE')}: Caption: a < b & c > d`)).toBe(
      'Post ABC from <@U0ALICE>: Caption: a &lt; b &amp; c &gt; d',
    );
    expect(toMrkdwn(rich`in ${channelRef('C0GENERAL')} see <https://x.com/acme/status/1|post> <!channel>`)).toBe(
      'in <#C0GENERAL> see &lt;https://x.com/acme/status/1|post&gt; &lt;!channel&gt;',
    );
    expect(toMrkdwn('<script>')).toBe('&lt;script&gt;');
    // Markup in text, typed or not, is shown as written: a typed mention never pings.
    expect(toMrkdwn('<#C0GENERAL|fake> <!subteam^S0ADMINS> <@U0BOB|bob> <@U0BOB> <#C0GENERAL>')).toBe(
      '&lt;#C0GENERAL|fake&gt; &lt;!subteam^S0ADMINS&gt; &lt;@U0BOB|bob&gt; &lt;@U0BOB&gt; &lt;#C0GENERAL&gt;',
    );
  });
});

describe('withoutMention', () => {
  it('drops the bot mention wherever it is', () => {
    expect(withoutMention('<@U0BOT> connect x', 'U0BOT')).toBe('connect x');
    expect(withoutMention('<@U0BOT|iqsp>   approvers add <@U0BOB>', 'U0BOT')).toBe('approvers add <@U0BOB>');
    expect(withoutMention('<@U0BOT> help', undefined)).toBe('help');
  });
});

describe('toSlackMessage', () => {
  it('renders text, fields, the preview image and buttons as Block Kit', () => {
    const message = toSlackMessage({
      text: 'Post ABC needs 1 approval(s)',
      fields: [{ label: 'Post', value: 'ABC' }],
      imageUrl: 'https://iqsp.test/media/t',
      buttons: [
        { actionId: 'approve_post', label: 'Approve', value: 'ABC', style: 'primary' },
        { actionId: 'open_connect_link', label: 'Connect X', value: 'https://iqsp.test/connect/abc' },
      ],
    });
    expect(message.text).toBe('Post ABC needs 1 approval(s)');
    expect(message.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Post ABC needs 1 approval(s)' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Post*\nABC' }] },
      { type: 'image', image_url: 'https://iqsp.test/media/t', alt_text: 'Preview of the media of this post' },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'approve_post', text: { type: 'plain_text', text: 'Approve' }, value: 'ABC', style: 'primary' },
          {
            type: 'button',
            action_id: 'open_connect_link',
            text: { type: 'plain_text', text: 'Connect X' },
            value: 'https://iqsp.test/connect/abc',
            url: 'https://iqsp.test/connect/abc',
          },
        ],
      },
    ]);
    expect(toSlackMessage({ text: 'x', imageUrl: 'https://i' }, { withImage: false }).blocks.some((b) => b.type === 'image')).toBe(false);
  });

  it('splits text longer than a section holds', () => {
    const long = Array.from({ length: 200 }, (_, i) => `line ${i} ${'w'.repeat(20)}`).join('\n');
    const pieces = chunks(long, 3000);
    expect(pieces.every((p) => p.length <= 3000)).toBe(true);
    expect(pieces.join('\n')).toBe(long);
    expect(toSlackMessage({ text: long }).blocks.length).toBe(pieces.length);
  });
});
