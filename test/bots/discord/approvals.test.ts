/**
 * A post from a Discord message to its published links: MESSAGE_CREATE with an attachment →
 * the approval message (embed, ✅/❌ seeded, buttons) → reactions and buttons over the gateway
 * (including on a message the restarted client never cached) → results and progress in a
 * thread started from the approval message. Also: mentions answered by DM, refusals, replays.
 */
import { ButtonStyle, ChannelType } from 'discord.js';
import type { APIButtonComponent, APIMessage } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.connectX(h.discord.world.people.alice.id);
});
afterAll(async () => {
  await h?.close();
});

const people = () => h.discord.world.people;
const mention = () => `<@${h.discord.world.bot.id}>`;

function buttons(message: APIMessage | undefined): APIButtonComponent[] {
  return (message?.components ?? []).flatMap((row) => ('components' in row ? (row.components as APIButtonComponent[]) : []));
}

async function postStatus(postId: string): Promise<string> {
  const row = await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow();
  return row.status;
}

/**
 * The first approval message the bot posted after the channel had `before` bot messages, once
 * its ✅/❌ are seeded and the post knows it (as a person sees it before reacting).
 */
async function nextApprovalMessage(before: number): Promise<{ message: APIMessage; postId: string }> {
  const message = await h.discord.waitFor(
    () =>
      h.discord
        .botMessages(h.discord.world.channelId)
        .slice(before)
        .find((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post')),
    'an approval message',
  );
  const postId = message.embeds[0]!.fields!.find((f) => f.name === 'Post')!.value;
  await h.discord.waitFor(() => h.discord.world.reactions.get(message.id)?.get('❌')?.has(h.discord.world.bot.id), 'the seeded reactions');
  for (;;) {
    const row = await h.app.services.db.selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirst();
    if (row?.approval_message_id === message.id) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { message, postId };
}

function threadTexts(threadId: string): string[] {
  return h.discord.botMessages(threadId).map((m) => m.content);
}

/** A mention with `post`, by `author`; resolves with the approval message. */
async function mentionPost(author: keyof ReturnType<typeof people>, text: string, withImage = false) {
  const before = h.discord.botMessages(h.discord.world.channelId).length;
  const files = withImage ? [h.discord.attachment('launch.png', 'image/png', await pngBytes(300, 300), { width: 300, height: 300 })] : [];
  h.discord.userMessage(people()[author], `${mention()} post ${text}`, files);
  return nextApprovalMessage(before);
}

describe('a post from a message with an attachment', () => {
  let approval: APIMessage;
  let postId: string;

  it('MESSAGE_CREATE mentioning the bot with an image and `post x …` shows the approval message as an embed', async () => {
    ({ message: approval, postId } = await mentionPost('bob', 'x Launch day: *new* colours 🚀', true));
    const embed = approval.embeds[0]!;
    expect(embed.description).toBe(
      `Post ${postId} from <@${people().bob.id}> needs 1 approval(s): react ✅ to approve, ❌ to reject.\nCaption: Launch day: *new* colours 🚀`,
    );
    expect(embed.fields).toEqual([
      { name: 'Post', value: postId, inline: true },
      { name: 'Targets', value: 'X @acme', inline: true },
      { name: 'Media', value: expect.stringMatching(/^image 300×300 \d+(\.\d+)? KB$/), inline: true },
    ]);
    expect(embed.image!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/\S+$/);
    const preview = await fetch(embed.image!.url);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/png');
    expect(buttons(approval)).toEqual([
      { type: 2, style: ButtonStyle.Success, label: 'Approve', custom_id: `approve_post:${postId}` },
      { type: 2, style: ButtonStyle.Danger, label: 'Reject', custom_id: `reject_post:${postId}` },
      { type: 2, style: ButtonStyle.Secondary, label: 'Edit', custom_id: `edit_post:${postId}` },
    ]);
  });

  it('downloads the attachment from its (signed) URL on the file host', async () => {
    const media = await h.app.services.db
      .selectFrom('media')
      .select(['original_name', 'mime_type', 'width', 'height'])
      .where('post_id', '=', postId)
      .execute();
    expect(media).toEqual([{ original_name: 'launch.png', mime_type: 'image/png', width: 300, height: 300 }]);
  });

  it('seeds ✅ and ❌ as the bot, and the echoed reactions of the bot do not count', async () => {
    const puts = h.discord.callsTo('PUT', new RegExp(`^/channels/${h.discord.world.channelId}/messages/${approval.id}/reactions/`));
    expect(puts.map((c) => c.path.split('/')[6])).toEqual(['✅', '❌']);
    expect([...h.discord.world.reactions.get(approval.id)!.get('✅')!]).toEqual([h.discord.world.bot.id]);
    // The echoes were handled before this later command (events are in order).
    await h.discord.answered(h.discord.commandInteraction(people().carol, 'help'));
    expect(await postStatus(postId)).toBe('pending_approval');
    const decisions = await h.app.services.db.selectFrom('approvals').selectAll().where('post_id', '=', postId).execute();
    expect(decisions).toEqual([]);
  });

  it('tells the requester privately, by DM', async () => {
    const dms = await h.discord.waitFor(
      () => h.discord.dmMessages(people().bob.id).find((m) => m.content.includes(postId)),
      'a DM to the requester',
    );
    expect(dms.content).toBe(`Post ${postId} is waiting for approval in this channel.`);
  });

  it('ignores the requester’s own ✅, saying so in a thread started from the approval message', async () => {
    h.discord.reactionAdd(people().bob, approval.id, '✅');
    const thread = await h.discord.waitFor(() => h.discord.threads().find((t) => t.id === approval.id), 'the thread');
    expect(thread).toMatchObject({ parent_id: h.discord.world.channelId, name: `Post ${postId}`, type: ChannelType.PublicThread });
    await h.discord.waitFor(() => threadTexts(thread.id).length > 0, 'a reply in the thread');
    expect(threadTexts(thread.id)).toEqual([`<@${people().bob.id}>: The person who asked for a post cannot approve or reject it.`]);
    expect(await postStatus(postId)).toBe('pending_approval');
  });

  it('after a restart, ✅ on the uncached approval message approves it; results and progress go to the thread', async () => {
    await h.restart();
    const callsBefore = h.discord.calls.length;
    h.discord.reactionAdd(people().carol, approval.id, '✅');

    const summary = `Post ${postId}: published (1 of 1 published).`;
    await h.discord.waitFor(() => threadTexts(approval.id).includes(summary), 'the summary in the thread');
    const texts = threadTexts(approval.id);
    expect(texts).toContain(`approved by <@${people().carol.id}> (1 of 1): publishing now.`);
    const published = texts.find((t) => t.startsWith('X @acme: published '))!;
    expect(published).toMatch(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/);
    expect(h.x.published).toEqual([{ caption: 'Launch day: *new* colours 🚀', bytes: expect.any(Number), accessToken: 'x-access-acme' }]);

    // One progress message, edited in place rather than a new message per step.
    const progress = h.discord.botMessages(approval.id).filter((m) => m.content.startsWith('X @acme: uploading'));
    expect(progress).toHaveLength(1);
    await h.discord.waitFor(() => progress[0]!.content === 'X @acme: uploading 100%' && progress[0], 'the progress message to reach 100%');
    expect(h.discord.callsTo('PATCH', new RegExp(`^/channels/${approval.id}/messages/${progress[0]!.id}$`)).length).toBeGreaterThanOrEqual(
      1,
    );

    // The approval message now says how it ended, without buttons.
    await h.discord.waitFor(
      () => approval.embeds[0]?.description?.includes(': published (1 of 1 published).'),
      'the approval message to show the outcome',
    );
    expect(approval.components).toEqual([]);
    expect(approval.embeds[0]!.image).toBeUndefined();

    // Nothing in the new client knew the message: no thread was started again.
    expect(h.discord.callsTo('POST', /\/threads$/).filter((c) => h.discord.calls.indexOf(c) >= callsBefore)).toEqual([]);
    expect(await postStatus(postId)).toBe('published');
  });
});

describe('decisions', () => {
  it('a ✅ removed before the outcome withdraws it; one ❌ vetoes the post', async () => {
    await h.discord.answered(h.discord.commandInteraction(people().alice, 'approvals', { count: 2 }));
    const { message, postId } = await mentionPost('bob', 'x Two approvals needed');
    h.discord.reactionAdd(people().carol, message.id, '✅');
    await h.discord.waitFor(() => threadTexts(message.id).includes(`approved by <@${people().carol.id}> (1 of 2).`), 'the first approval');
    h.discord.reactionRemove(people().carol, message.id, '✅');
    await h.discord.waitFor(
      () => threadTexts(message.id).includes(`<@${people().carol.id}> withdrew their approval (0 of 2).`),
      'the withdrawal',
    );
    h.discord.reactionAdd(people().alice, message.id, '❌');
    await h.discord.waitFor(
      () => threadTexts(message.id).includes(`rejected by <@${people().alice.id}>: nothing will be published.`),
      'the veto',
    );
    expect(await postStatus(postId)).toBe('rejected');
    await h.discord.waitFor(
      () => message.embeds[0]?.description?.includes(`: rejected (by <@${people().alice.id}>).`),
      'the approval message to say rejected',
    );
    expect(message.components).toEqual([]);
    expect(h.x.published.map((p) => p.caption)).not.toContain('Two approvals needed');
    await h.discord.answered(h.discord.commandInteraction(people().alice, 'approvals', { count: 1 }));
  });

  it('the Approve button approves (acknowledged with a deferred update); the requester’s button does not', async () => {
    const { message, postId } = await mentionPost('carol', 'x Approved by button');
    const own = h.discord.buttonClick(people().carol, message, `approve_post:${postId}`);
    await h.discord.waitFor(() => threadTexts(message.id).length > 0, 'the requester to be told');
    expect(own.callbacks).toEqual([{ type: 6 }]);
    expect(threadTexts(message.id)).toEqual([`<@${people().carol.id}>: The person who asked for a post cannot approve or reject it.`]);

    h.discord.buttonClick(people().owner, message, `approve_post:${postId}`);
    await h.discord.waitFor(
      () => threadTexts(message.id).includes(`Post ${postId}: published (1 of 1 published).`),
      'the post to be published',
    );
    expect(threadTexts(message.id)).toContain(`approved by <@${people().owner.id}> (1 of 1): publishing now.`);
    expect(threadTexts(message.id).some((t) => /^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/.test(t))).toBe(true);
  });

  it('a button on a copy of the request whose id was never stored decides nothing; the copy is replaced by where to decide', async () => {
    const { message, postId } = await mentionPost('carol', 'x Approved on the wrong message');
    // The request shown twice: a copy whose id was never stored (its instance stopped before storing it).
    const copy = { ...message, id: `${BigInt(message.id) + 7n}` };
    h.discord.world.messages.set(copy.id, copy);
    h.discord.buttonClick(people().owner, copy, `approve_post:${postId}`);
    await h.discord.waitFor(() => String(h.discord.world.messages.get(copy.id)?.content).startsWith('This is not'), 'the copy to say so');
    expect(h.discord.world.messages.get(copy.id)!.content).toBe(
      `This is not the approval message of post ${postId}: it was shown for approval again in another message of this channel. Approve or reject it there.`,
    );
    expect(await postStatus(postId)).toBe('pending_approval');
    h.discord.buttonClick(people().owner, message, `approve_post:${postId}`);
    await h.discord.waitFor(
      () => threadTexts(message.id).includes(`approved by <@${people().owner.id}> (1 of 1): publishing now.`),
      'the approval',
    );
  });

  it('the Reject button rejects', async () => {
    const { message, postId } = await mentionPost('bob', 'x Rejected by button');
    h.discord.buttonClick(people().alice, message, `reject_post:${postId}`);
    await h.discord.waitFor(
      () => threadTexts(message.id).includes(`rejected by <@${people().alice.id}>: nothing will be published.`),
      'the rejection',
    );
    expect(await postStatus(postId)).toBe('rejected');
  });
});

describe('messages that mention the bot', () => {
  it('a request that fails validation is refused by DM, naming the limit and the measured value; nothing is posted', async () => {
    const before = h.discord.botMessages(h.discord.world.channelId).length;
    const caption = 'a'.repeat(301);
    h.discord.userMessage(people().bob, `${mention()} post x ${caption}`);
    const refusal = await h.discord.waitFor(
      () => h.discord.dmMessages(people().bob.id).find((m) => m.content.startsWith('Nothing was posted')),
      'the refusal',
    );
    expect(refusal.content).toBe(
      'Nothing was posted. Fix these and try again:\n• X @acme: X allows 280 characters; this caption counts 301',
    );
    expect(
      h.discord
        .botMessages(h.discord.world.channelId)
        .slice(before)
        .filter((m) => m.embeds.length > 0),
    ).toEqual([]);
  });

  it('any command works by mention (also through the bot’s role mention); private answers go by DM', async () => {
    h.discord.userMessage(people().carol, `${mention()} connect x`);
    const link = await h.discord.waitFor(
      () => h.discord.dmMessages(people().carol.id).find((m) => m.content.startsWith('Connect X: ')),
      'the connect link by DM',
    );
    expect(link.content).toMatch(/\/connect\/\S+/);
    expect(h.discord.botMessages(h.discord.world.channelId).some((m) => m.content.includes('/connect/'))).toBe(false);

    h.discord.userMessage(people().carol, `<@&${h.discord.world.botRoleId}> accounts`);
    await h.discord.waitFor(
      () => h.discord.dmMessages(people().carol.id).find((m) => m.content.includes('**Connected accounts**')),
      'the accounts by DM',
    );
  });

  it('public answers reply to the message', async () => {
    const asked = h.discord.userMessage(people().alice, `${mention()} approvals 1`);
    const reply = await h.discord.waitFor(
      () => h.discord.botMessages(h.discord.world.channelId).find((m) => m.message_reference?.message_id === asked.id),
      'the reply',
    );
    expect(reply.content).toBe('Posts in this workspace now need 1 approval(s).');
  });

  it('when DMs are closed, the channel is told how to get the answer, never the private text', async () => {
    h.discord.world.dmsClosed.add(people().carol.id);
    try {
      const asked = h.discord.userMessage(people().carol, `${mention()} connect x`);
      const reply = await h.discord.waitFor(
        () => h.discord.botMessages(h.discord.world.channelId).find((m) => m.message_reference?.message_id === asked.id),
        'the note',
      );
      expect(reply.content).toBe(
        `<@${people().carol.id}>, I could not send you a direct message. Allow DMs from this server's members, or use /iqsp, which answers privately.`,
      );
      expect(reply.content).not.toContain('/connect/');
    } finally {
      h.discord.world.dmsClosed.delete(people().carol.id);
    }
  });

  it('the same MESSAGE_CREATE delivered twice acts once', async () => {
    const before = h.discord.botMessages(h.discord.world.channelId).length;
    const message = h.discord.userMessage(people().bob, `${mention()} post x Only once`);
    h.discord.gateway.dispatch('MESSAGE_CREATE', {
      ...message,
      guild_id: h.discord.world.guildId,
      member: { ...h.discord.world.member(people().bob.id), user: undefined },
    });
    await nextApprovalMessage(before);
    // A later message is handled after both deliveries.
    const { message: later } = await mentionPost('bob', 'x Afterwards');
    const approvals = h.discord
      .botMessages(h.discord.world.channelId)
      .slice(before)
      .filter((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post'));
    expect(approvals.map((m) => m.id).at(-1)).toBe(later.id);
    expect(approvals.filter((m) => m.embeds[0]!.description!.includes('Only once'))).toHaveLength(1);
  });

  it('messages that do not mention the bot, and the bot’s own messages, are left alone', async () => {
    const calls = h.discord.calls.length;
    h.discord.userMessage(people().bob, 'post x not for the bot');
    await h.discord.answered(h.discord.commandInteraction(people().bob, 'help'));
    // In the channel (a thread of an earlier post may still hear a late notice from the notice worker).
    expect(
      h.discord.calls
        .slice(calls)
        .filter((c) => c.path.startsWith(`/channels/${h.discord.world.channelId}/`))
        .map((c) => `${c.method} ${c.path}`),
    ).toEqual([]);
  });

  it('a DM to the bot is answered with where IQSP works', async () => {
    h.discord.directMessage(people().carol, 'help');
    await h.discord.waitFor(
      () =>
        h.discord
          .dmMessages(people().carol.id)
          .find(
            (m) => m.author.id === h.discord.world.bot.id && m.content === 'IQSP works in server channels: mention me there or use /iqsp.',
          ),
      'the answer in the DM',
    );
  });
});
