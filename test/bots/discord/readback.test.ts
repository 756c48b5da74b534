/**
 * A ✅ or ❌ given in Discord while the bot was off the gateway is not lost: the expiry check
 * reads the approval message from the REST API (GET /channels/{id}/messages/{id}: its
 * reactions and counts, then the users of ✅ and ❌ page by page) and decides what it finds as
 * if the events had arrived. The bot's own seeded reactions and other bots do not count.
 */
import type { APIMessage, APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.connectX(h.discord.world.people.alice.id);
});
afterAll(async () => {
  await h?.close();
});

const people = () => h.discord.world.people;

async function status(postId: string): Promise<string> {
  return (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
}

async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Alice asks for a post by mentioning the bot; resolves once its approval message is seeded and stored. */
async function request(caption: string): Promise<{ message: APIMessage; postId: string }> {
  const before = h.discord.botMessages(h.discord.world.channelId).length;
  h.discord.userMessage(people().alice, `<@${h.discord.world.bot.id}> post x ${caption}`);
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
  await until(
    async () =>
      (await h.app.services.db.selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirst())
        ?.approval_message_id === message.id,
    'the stored message id',
  );
  return { message, postId };
}

const threadTexts = (messageId: string) => h.discord.botMessages(messageId).map((m) => m.content);

describe('reactions the bot did not receive', () => {
  it('a ✅ read back from the approval message approves and publishes the post; bots and the requester do not count', async () => {
    const { message, postId } = await request('Approved while the gateway was down');
    // A hundred other bots got there first (Discord lists users by id): Bob is on the second page.
    for (let i = 0; i < 100; i += 1) {
      const bot: APIUser = {
        id: String(100_000_000_000_000n + BigInt(i)),
        username: `bot${i}`,
        discriminator: '0',
        global_name: null,
        avatar: null,
        bot: true,
      };
      h.discord.world.users.set(bot.id, bot);
      h.discord.reactionAdd(bot, message.id, '✅', h.discord.world.channelId, { delivered: false });
    }
    h.discord.reactionAdd(people().alice, message.id, '✅', h.discord.world.channelId, { delivered: false });
    h.discord.reactionAdd(people().bob, message.id, '✅', h.discord.world.channelId, { delivered: false });
    expect(await status(postId)).toBe('pending_approval');

    await h.app.core.cleanup.run();
    const read = h.discord.calls.filter(
      (c) => c.method === 'GET' && c.path.startsWith(`/channels/${h.discord.world.channelId}/messages/${message.id}`),
    );
    // Reading back: the message, then ✅'s users page by page (the thread's first reply reads the message once more to start it).
    expect(read.slice(0, 3).map((c) => c.path)).toEqual([
      `/channels/${h.discord.world.channelId}/messages/${message.id}`,
      `/channels/${h.discord.world.channelId}/messages/${message.id}/reactions/✅`,
      `/channels/${h.discord.world.channelId}/messages/${message.id}/reactions/✅`,
    ]);
    expect(read[1]!.query).toEqual({ limit: '100', type: '0' });
    expect(read[2]!.query).toEqual({ limit: '100', type: '0', after: expect.any(String) });
    // ❌ carries only the bot's own seed: its users are not asked for.
    await until(
      () => threadTexts(message.id).includes(`approved by <@${people().bob.id}> (1 of 1): publishing now.`) || undefined,
      `the approval in the thread: ${JSON.stringify(threadTexts(message.id))}`,
    );
    await until(async () => (await status(postId)) === 'published' || undefined, 'the post to be published');
    expect(h.x.published.filter((p) => p.caption === 'Approved while the gateway was down')).toHaveLength(1);
    expect(threadTexts(message.id)).toContain(`<@${people().alice.id}>: The person who asked for a post cannot approve or reject it.`);
    const bots = await h.app.services.db
      .selectFrom('chat_users')
      .select('external_id')
      .where('external_id', 'in', [h.discord.world.bot.id, '100000000000000'])
      .execute();
    expect(bots).toEqual([]);
  });

  it('a ❌ read back rejects the post', async () => {
    const { message, postId } = await request('Rejected while the gateway was down');
    h.discord.reactionAdd(people().carol, message.id, '❌', h.discord.world.channelId, { delivered: false });
    await h.app.core.cleanup.run();
    expect(await status(postId)).toBe('rejected');
    await until(
      () => threadTexts(message.id).includes(`rejected by <@${people().carol.id}>: nothing will be published.`) || undefined,
      'the rejection in the thread',
    );
  });
});
