/**
 * A queued notice is stored so that both versions around an upgrade say it right: the segments,
 * and `text` as the previous version wrote it (people as `<@id>`). A notice the previous version
 * queued (only `text`) is read with the people it names, so they are still named and pinged.
 */
import { describe, expect, it } from 'vitest';
import { noticeText, storedNotice } from '../../src/core/notices.js';
import { mention, rich } from '../../src/core/ports/rich-text.js';
import { toMrkdwn } from '../../src/bots/slack/text.js';
import { allowedMentionsOf } from '../../src/bots/discord/render.js';

const stored = (payload: Record<string, unknown>) => JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;

describe('a queued notice', () => {
  it('keeps `text` as the previous version wrote it, which that version says during a rolling upgrade', () => {
    const payload = stored(storedNotice('p1', rich`approved by ${mention('U0ALICE')} (1 of 1): publishing now.`));
    expect(payload.text).toBe('approved by <@U0ALICE> (1 of 1): publishing now.');
    expect(String(payload.text)).not.toContain('[object Object]');
  });

  it('is said from its segments: a mention typed in user text stays text', () => {
    const payload = stored(storedNotice('p1', rich`cancelled by ${mention('U0ALICE')}: ${'<@U0ATTACKER> typed this'}`));
    expect(toMrkdwn(noticeText(payload))).toBe('cancelled by <@U0ALICE>: &lt;@U0ATTACKER&gt; typed this');
  });

  it('queued by the previous version (a plain string with <@id>), still names and pings its people', () => {
    const legacy = { postId: 'p1', text: 'approved by <@U0ALICE> (1 of 1): publishing now.' };
    expect(toMrkdwn(noticeText(legacy))).toBe('approved by <@U0ALICE> (1 of 1): publishing now.');
    expect(allowedMentionsOf(noticeText({ postId: 'p1', text: 'rejected by <@123456789012345678>.' })).users).toEqual([
      '123456789012345678',
    ]);
  });
});

describe('Slack mrkdwn', () => {
  it('writes a mention only for an id of Slack’s shape', () => {
    expect(toMrkdwn(rich`x ${mention('U1>|<!channel')}`)).toBe('x @U1&gt;|&lt;!channel');
  });
});
