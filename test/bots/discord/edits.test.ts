/**
 * Edits from Discord (issue 16): `/iqsp edit` with `post_id`, `target` and `caption`, and the
 * approval message's Edit button opening a modal filled in with the caption and each platform's
 * own version — each through INTERACTION_CREATE over the fake gateway to the app's real
 * discord.js client, the answers read back from the fake's interaction callbacks, channel,
 * threads and reactions. An edit starts the approvals over: the ✅ given so far are cleared
 * through REST where the bot has Manage Messages (its own ✅ seeded again), and where it has not
 * they stay but no longer count.
 */
import type { APIMessage } from 'discord.js';
import { InteractionResponseType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commandFromOptions, type SlashOptions } from '../../../src/bots/discord/commands.js';
import { editModal } from '../../../src/bots/discord/edit-form.js';
import type { InteractionRecord } from '../../simulators/discord/index.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ approvalsRequired: 2 });
  await h.connectX(h.discord.world.people.alice.id, 'acme');
  await h.connectX(h.discord.world.people.alice.id, 'beta');
});
afterAll(async () => {
  await h?.close();
});

type Who = 'owner' | 'alice' | 'bob' | 'carol';
const people = () => h.discord.world.people;
const channel = () => h.discord.world.channelId;
const APPROVE = '✅';

/** Whether the bot's role has Manage Messages (what clearing others' reactions needs). */
function manageMessages(granted: boolean): void {
  const role = h.discord.world.roles.find((r) => r.id === h.discord.world.botRoleId)!;
  const bits = BigInt(role.permissions);
  role.permissions = String(granted ? bits | PermissionFlagsBits.ManageMessages : bits & ~PermissionFlagsBits.ManageMessages);
}
beforeEach(() => manageMessages(true));

/** `/iqsp <sub>` as `who`; resolves with what they were shown (the ephemeral answer). */
async function run(who: Who, sub: string, options: Record<string, string | number | boolean> = {}): Promise<InteractionRecord> {
  return h.discord.answered(h.discord.commandInteraction(people()[who], sub, options));
}

function ephemeral(message: APIMessage | undefined): boolean {
  return Boolean((message?.flags ?? 0) & MessageFlags.Ephemeral);
}

/** `/iqsp post` by Bob; resolves with the post id and its approval message once its ✅/❌ are seeded and the post knows it. */
async function request(targets: string, caption: string): Promise<{ postId: string; approval: APIMessage }> {
  const answer = await run('bob', 'post', { targets, caption });
  const postId = /Post (\w+) is waiting for approval/.exec(answer.original?.content ?? '')?.[1];
  if (!postId) throw new Error(`not posted: ${answer.original?.content}`);
  const approval = await h.discord.waitFor(
    () => h.discord.botMessages(channel()).find((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post' && f.value === postId)),
    `the approval message of ${postId}`,
  );
  await h.discord.waitFor(() => reactors(approval.id, '❌').has(h.discord.world.bot.id), 'the seeded reactions');
  for (;;) {
    const row = await h.app.services.db.selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirst();
    if (row?.approval_message_id === approval.id) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { postId, approval };
}

function reactors(messageId: string, emoji: string): Set<string> {
  return h.discord.world.reactions.get(messageId)?.get(emoji) ?? new Set();
}

function threadTexts(threadId: string): string[] {
  return h.discord.botMessages(threadId).map((m) => m.content);
}

function waitInThread(threadId: string, text: string): Promise<string> {
  return h.discord.waitFor(() => threadTexts(threadId).find((t) => t === text), `"${text}" in the thread`);
}

/** `who` reacts ✅ and the post's thread then says it was counted as `counted` (e.g. "1 of 2"). */
async function approve(who: Who, approval: APIMessage, counted: string): Promise<void> {
  const before = threadTexts(approval.id).length;
  h.discord.reactionAdd(people()[who], approval.id, APPROVE);
  await h.discord.waitFor(
    () =>
      threadTexts(approval.id)
        .slice(before)
        .find((t) => t.startsWith(`approved by <@${people()[who].id}> (${counted})`)),
    `${who}'s approval (${counted})`,
  );
}

async function postStatus(postId: string): Promise<string> {
  const row = await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow();
  return row.status;
}

/** What X published for an account, by its handle. */
function publishedTo(handle: string): string[] {
  return h.x.published.filter((p) => p.accessToken === `x-access-${handle}`).map((p) => p.caption);
}

describe('/iqsp edit', () => {
  it('starts the approvals over: the ✅ are cleared through REST, the bot’s own seeded again, and fresh ones publish the new text', async () => {
    const { postId, approval } = await request('@acme', 'Launch on Tuesdya');
    await approve('carol', approval, '1 of 2');

    const edited = await run('bob', 'edit', { post_id: postId, caption: 'Launch on Tuesday' });
    expect(ephemeral(edited.original)).toBe(true);
    expect(edited.original!.content).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);

    // The approval message shows the new text; its ✅ were cleared (everyone's, with one DELETE) and the bot's put back.
    const description = await h.discord.waitFor(
      () => (h.discord.world.messages.get(approval.id)?.embeds[0]?.description?.includes('Edited:') ? approval : undefined),
      'the edited approval message',
    );
    expect(description.embeds[0]!.description).toContain('Caption: Launch on Tuesday');
    expect(description.embeds[0]!.description).toContain('a ✅ given before the edit does not count (0 of 2 so far)');
    const cleared = h.discord.callsTo('DELETE', new RegExp(`^/channels/${channel()}/messages/${approval.id}/reactions/`));
    expect(cleared.map((c) => c.path)).toEqual([`/channels/${channel()}/messages/${approval.id}/reactions/${APPROVE}`]);
    await h.discord.waitFor(() => reactors(approval.id, APPROVE).has(h.discord.world.bot.id), 'the bot’s ✅ seeded again');
    expect([...reactors(approval.id, APPROVE)]).toEqual([h.discord.world.bot.id]);
    const notice = threadTexts(approval.id).find((t) => t.startsWith(`edited by <@${people().bob.id}>`))!;
    expect(notice).toContain('- Launch on Tuesdya');
    expect(notice).toContain('+ Launch on Tuesday');
    expect(notice).toContain('approvals start over (0 of 2)');

    // Carol reacts again (her old ✅ is gone): it counts, as the first of two fresh ones.
    await approve('carol', approval, '1 of 2');
    expect(await postStatus(postId)).toBe('pending_approval');
    await approve('alice', approval, '2 of 2');
    await waitInThread(approval.id, `Post ${postId}: published (1 of 1 published).`);
    expect(publishedTo('acme')).toContain('Launch on Tuesday');
    expect(publishedTo('acme')).not.toContain('Launch on Tuesdya');
  });

  it('still edits when the bot may not clear reactions (403): the ✅ stay, logged at warn, and do not count', async () => {
    manageMessages(false);
    const { postId, approval } = await request('@acme', 'Sale starts Fridya');
    await approve('carol', approval, '1 of 2');

    const edited = await run('bob', 'edit', { post_id: postId, caption: 'Sale starts Friday' });
    expect(edited.original!.content).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    const warning = await h.discord.waitFor(
      () => h.logs.find((l) => l.includes('could not clear the ✅')),
      'the warning about the reactions',
    );
    expect(JSON.parse(warning)).toMatchObject({ level: 'warn', err: { status: 403, discordCode: 50013 } });
    expect(reactors(approval.id, APPROVE).has(people().carol.id)).toBe(true);
    await h.discord.waitFor(
      () => h.discord.world.messages.get(approval.id)?.embeds[0]?.description?.includes('(0 of 2 so far)'),
      'the approval message saying the count',
    );

    // Alice's fresh ✅ is the first that counts; Carol's old one does not, until she gives it again.
    await approve('alice', approval, '1 of 2');
    expect(await postStatus(postId)).toBe('pending_approval');
    h.discord.reactionRemove(people().carol, approval.id, APPROVE);
    await approve('carol', approval, '2 of 2');
    await waitInThread(approval.id, `Post ${postId}: published (1 of 1 published).`);
    expect(publishedTo('acme')).toContain('Sale starts Friday');
    expect(publishedTo('acme')).not.toContain('Sale starts Fridya');
  });

  it('with a target sets that target’s own version, published there only; `-` removes it; a caption opening with a platform name stays a caption', async () => {
    const { postId, approval } = await request('@acme,@beta', 'A long announcement for everyone');

    const version = await run('bob', 'edit', { post_id: postId, target: '@beta', caption: 'Beta’s own' });
    expect(version.original!.content).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    const removed = await run('bob', 'edit', { post_id: postId, target: '@beta', caption: '-' });
    expect(removed.original!.content).toContain(`Post ${postId} was edited`);
    await run('bob', 'edit', { post_id: postId, target: '@beta', caption: 'Short, for beta' });
    // "x …" is the caption here, not a version for X: the target option is the only way to name one.
    await run('bob', 'edit', { post_id: postId, caption: 'x marks the spot' });
    await h.discord.waitFor(
      () => h.discord.world.messages.get(approval.id)?.embeds[0]?.description?.includes('Caption: x marks the spot'),
      'the approval message with the new caption',
    );
    expect(h.discord.world.messages.get(approval.id)!.embeds[0]!.description).toContain('X @beta version: Short, for beta');

    await approve('carol', approval, '1 of 2');
    await approve('alice', approval, '2 of 2');
    await waitInThread(approval.id, `Post ${postId}: published (2 of 2 published).`);
    expect(publishedTo('beta')).toContain('Short, for beta');
    expect(publishedTo('beta')).not.toContain('x marks the spot');
    expect(publishedTo('acme')).toContain('x marks the spot');
    expect(publishedTo('acme')).not.toContain('Short, for beta');
  });

  it('is refused while a target is publishing, naming it; nothing changes', async () => {
    const { postId, approval } = await request('@acme', 'Held at the gate');
    const held = h.x.hold();
    await approve('carol', approval, '1 of 2');
    await approve('alice', approval, '2 of 2');
    await held.started;

    const refused = await run('bob', 'edit', { post_id: postId, caption: 'Too late' });
    expect(refused.original!.content).toBe(`Post ${postId} cannot be edited: X @acme is already publishing: cancel it first.`);
    expect(h.discord.callsTo('DELETE', new RegExp(`/messages/${approval.id}/reactions/`))).toEqual([]);

    held.release();
    await waitInThread(approval.id, `Post ${postId}: published (1 of 1 published).`);
    expect(publishedTo('acme')).toContain('Held at the gate');
    expect(publishedTo('acme')).not.toContain('Too late');
  });

  it('options that do not read as an edit are refused, naming the problem', async () => {
    const options = (values: Record<string, string>): SlashOptions => ({
      getSubcommand: () => 'edit',
      getString: (name) => values[name] ?? null,
      getInteger: () => null,
      getBoolean: () => null,
    });
    expect(commandFromOptions(options({ post_id: 'ABCD123', target: 'myspace', caption: 'Hi' }))).toEqual({
      ok: false,
      message:
        '"myspace" is not a platform or an @handle. Platforms: facebook, instagram, x, tiktok, linkedin, youtube, threads, bluesky; or an account as @handle.',
    });
    expect(commandFromOptions(options({ post_id: 'ABCD123', caption: '-' }))).toMatchObject({ ok: false });
    // The caption is taken as written: quotes of its own are kept, a first word naming a platform stays in it.
    expect(commandFromOptions(options({ post_id: 'abcd123', caption: '"Quoted" words' }))).toEqual({
      ok: true,
      command: { kind: 'edit', postId: 'ABCD123', text: '"Quoted" words' },
    });
    expect(commandFromOptions(options({ post_id: 'ABCD123', target: 'X', caption: '@acme says hi' }))).toEqual({
      ok: true,
      command: { kind: 'edit', postId: 'ABCD123', target: { kind: 'platform', platform: 'x' }, text: '@acme says hi' },
    });
  });
});

describe('the edit modal', () => {
  it('leaves empty texts out (Discord refuses a value under min_length) and refuses a text longer than an input takes', () => {
    const modal = editModal('ABCD123', { caption: '', platforms: [{ platform: 'x', version: '' }] });
    expect('refused' in modal).toBe(false);
    const inputs = (modal as unknown as { components: Array<{ component: Record<string, unknown> }> }).components.map((c) => c.component);
    expect(inputs.map((i) => [i.custom_id, i.value, i.required])).toEqual([
      ['caption', undefined, false],
      ['version:x', undefined, false],
    ]);
    expect(editModal('ABCD123', { caption: 'a'.repeat(4001), platforms: [] })).toEqual({
      refused: 'Post ABCD123 has a text longer than a Discord form takes (4,000 characters): use `/iqsp edit`.',
    });
  });
});

describe('the Edit button', () => {
  it('opens a modal for the requester filled in with the caption and each platform’s version; its submission edits the post', async () => {
    const { postId, approval } = await request('@acme,@beta', 'Modal caption');
    await run('bob', 'edit', { post_id: postId, target: 'x', caption: 'X’s own' });
    const message = h.discord.world.messages.get(approval.id)!;
    const editId = `edit_post:${postId}`;
    expect(message.components!.flatMap((row) => ('components' in row ? (row.components as unknown[]) : []))).toContainEqual(
      expect.objectContaining({ custom_id: editId, label: 'Edit' }),
    );

    // Someone else is told why, privately.
    const other = await h.discord.answered(h.discord.buttonClick(people().carol, message, editId));
    expect(other.callbacks.map((c) => c.type)).toEqual([InteractionResponseType.ChannelMessageWithSource]);
    expect(ephemeral(other.original)).toBe(true);
    expect(other.original!.content).toBe(`Only the person who asked for post ${postId} can edit it.`);

    const opened = h.discord.buttonClick(people().bob, message, editId);
    const modal = await h.discord.waitFor(
      () => opened.callbacks.find((c) => c.type === InteractionResponseType.Modal)?.data,
      'the edit modal',
    );
    expect(modal.custom_id).toBe(`edit_post_form:${postId}`);
    expect(modal.title).toBe(`Edit post ${postId}`);
    const inputs = (modal.components as Array<{ label: string; component: { custom_id: string; value?: string } }>).map((c) => ({
      label: c.label,
      id: c.component.custom_id,
      value: c.component.value,
    }));
    expect(inputs).toEqual([
      { label: 'Caption', id: 'caption', value: 'Modal caption' },
      { label: 'X version', id: 'version:x', value: 'X’s own' },
    ]);

    const submitted = await h.discord.answered(
      h.discord.modalSubmit(people().bob, opened, { caption: 'Modal caption, edited', 'version:x': '' }),
    );
    expect(ephemeral(submitted.original)).toBe(true);
    expect(submitted.original!.content).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    await h.discord.waitFor(
      () => h.discord.world.messages.get(approval.id)?.embeds[0]?.description?.includes('Caption: Modal caption, edited'),
      'the approval message with the new caption',
    );
    // A blank version is the caption again.
    expect(h.discord.world.messages.get(approval.id)!.embeds[0]!.description).not.toContain('version:');

    await approve('carol', approval, '1 of 2');
    await approve('alice', approval, '2 of 2');
    await waitInThread(approval.id, `Post ${postId}: published (2 of 2 published).`);
    expect(publishedTo('acme')).toContain('Modal caption, edited');
    expect(publishedTo('beta')).toContain('Modal caption, edited');
  });
});
