/**
 * Scheduling from Discord (issue 15): `/iqsp post` with its `when` option, `scheduled`,
 * `reschedule`, `timezone` and `slots` as slash commands, and a mention that says when — each
 * through INTERACTION_CREATE or MESSAGE_CREATE over the fake gateway to the app's real
 * discord.js client, the answers read back from the fake's interaction callbacks, channel,
 * threads and DMs. The app's clock is the test's: time passes when the test moves it.
 *
 * Discord tells IQSP no one's zone, so a time is read in the zone set with `/iqsp timezone`,
 * else the workspace's, else DEFAULT_TIMEZONE (UTC here); the approval message shows it as
 * `<t:unix:F>`, which each reader's Discord shows in their own zone.
 */
import type { APIMessage } from 'discord.js';
import { MessageFlags } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandFromOptions, type SlashOptions } from '../../../src/bots/discord/commands.js';
import { discordText, renderMessage } from '../../../src/bots/discord/render.js';
import { rich, timeAt } from '../../../src/core/ports/rich-text.js';
import type { InteractionRecord } from '../../simulators/discord/index.js';
import { pngBytes, startHarness, type Harness } from './harness.js';

/** Monday 7 December 2026, 12:00 UTC: 07:00 in New York (EST), 13:00 in Berlin (CET). */
const START = new Date('2026-12-07T12:00:00Z');
let clock = START;
const minutes = (n: number) => n * 60_000;
/** Moves the app's clock on (jobs due by then are claimed on the worker's next poll). */
function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ now: () => clock });
  await h.connectX(h.discord.world.people.alice.id);
});
afterAll(async () => {
  await h?.close();
});

type Who = 'owner' | 'alice' | 'bob' | 'carol';
const people = () => h.discord.world.people;
const channel = () => h.discord.world.channelId;

/** Discord's timestamp markup for an instant: each reader sees it in their own zone. */
const stamp = (iso: string) => `<t:${Date.parse(iso) / 1000}:F>`;

/** `/iqsp <sub>` as `who`; resolves once answered, with what they were shown (the ephemeral edit, or the channel message). */
async function run(who: Who, sub: string, options: Record<string, string | number | boolean> = {}) {
  const before = h.discord.botMessages(channel()).length;
  const record = await h.discord.answered(h.discord.commandInteraction(people()[who], sub, options));
  return { record, text: shown(record, before) };
}

function shown(record: InteractionRecord, channelBefore: number): string {
  if (!record.originalDeleted) return record.original?.content ?? '';
  return h.discord.botMessages(channel())[channelBefore]?.content ?? '';
}

function ephemeral(record: InteractionRecord): boolean {
  return Boolean((record.original?.flags ?? 0) & MessageFlags.Ephemeral);
}

/** The approval message of `postId`, once its ✅/❌ are seeded and the post knows it (as a person sees it before reacting). */
async function approvalOf(postId: string): Promise<APIMessage> {
  const message = await h.discord.waitFor(
    () => h.discord.botMessages(channel()).find((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post' && f.value === postId)),
    `the approval message of ${postId}`,
  );
  await h.discord.waitFor(() => h.discord.world.reactions.get(message.id)?.get('❌')?.has(h.discord.world.bot.id), 'the seeded reactions');
  while ((await row(postId))?.approval_message_id !== message.id) await new Promise((resolve) => setTimeout(resolve, 10));
  return message;
}

async function row(postId: string) {
  return h.app.services.db
    .selectFrom('posts')
    .select(['status', 'scheduled_at', 'schedule_zone', 'approval_message_id'])
    .where('id', '=', postId)
    .executeTakeFirst();
}

async function postCount(): Promise<number> {
  const { count } = await h.app.services.db
    .selectFrom('posts')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** `/iqsp post targets:x when:… caption:…`; resolves with the post id from the ephemeral answer and the answer. */
async function schedule(who: Who, when: string, caption: string): Promise<{ postId: string; text: string; record: InteractionRecord }> {
  const { record, text } = await run(who, 'post', { targets: 'x', when, caption });
  const postId = /^Post (\S+) is scheduled for /.exec(text)?.[1];
  if (!postId) throw new Error(`not scheduled: ${text}`);
  return { postId, text, record };
}

function threadTexts(threadId: string): string[] {
  return h.discord.botMessages(threadId).map((m) => m.content);
}

function waitInThread(threadId: string, pattern: RegExp): Promise<string> {
  return h.discord.waitFor(() => threadTexts(threadId).find((t) => pattern.test(t)), `a reply matching ${pattern} in the thread`);
}

describe('the time segment', () => {
  it('renders as Discord timestamp markup (full date and time), shown in each reader’s zone', () => {
    const at = new Date('2026-12-07T14:30:00Z');
    expect(discordText(rich`Goes out ${timeAt(at, 'America/New_York')}.`)).toBe(`Goes out ${stamp('2026-12-07T14:30:00Z')}.`);
    expect(renderMessage({ text: [timeAt(at, 'UTC')] }).content).toBe('<t:1796653800:F>');
  });
});

/** A filled-in `/iqsp <subcommand>` as discord.js resolves its options. */
function slash(subcommand: string, values: Record<string, string> = {}): SlashOptions {
  return {
    getSubcommand: () => subcommand,
    getString: (name) => values[name] ?? null,
    getInteger: () => null,
    getBoolean: () => null,
  };
}

describe('slash options → the grammar’s scheduling commands', () => {
  it('post: `when` is read as the text’s <when> would be; a bad one is the grammar’s refusal', () => {
    expect(commandFromOptions(slash('post', { targets: 'x', when: 'tomorrow 09:30', caption: 'Hi' }))).toEqual({
      ok: true,
      command: {
        kind: 'post',
        targets: [{ kind: 'platform', platform: 'x', option: undefined }],
        caption: 'Hi',
        when: { kind: 'tomorrow', time: { hour: 9, minute: 30 } },
      },
    });
    expect(commandFromOptions(slash('post', { targets: 'x', when: '09:30', caption: 'Hi' }))).toMatchObject({
      command: { when: { kind: 'at', time: { hour: 9, minute: 30 } } },
    });
    expect(commandFromOptions(slash('post', { targets: 'x', when: ' ', caption: 'Hi' }))).toEqual({
      ok: true,
      command: { kind: 'post', targets: [{ kind: 'platform', platform: 'x', option: undefined }], caption: 'Hi' },
    });
    expect(commandFromOptions(slash('post', { targets: 'x', when: 'at noon', caption: 'Hi' }))).toEqual({
      ok: false,
      message: expect.stringMatching(/^"at noon" is not a time\. Times are /),
    });
  });

  it('reschedule, timezone and slots are the text commands', () => {
    expect(commandFromOptions(slash('reschedule', { post_id: 'abcd123', when: 'in 2h' }))).toEqual({
      ok: true,
      command: { kind: 'reschedule', postId: 'ABCD123', when: { kind: 'in', minutes: 120 } },
    });
    expect(commandFromOptions(slash('reschedule', { post_id: 'abcd123', when: 'now' }))).toMatchObject({
      command: { when: { kind: 'now' } },
    });
    expect(commandFromOptions(slash('timezone'))).toEqual({ ok: true, command: { kind: 'timezone', scope: 'person' } });
    expect(commandFromOptions(slash('timezone', { zone: 'europe/berlin' }))).toEqual({
      ok: true,
      command: { kind: 'timezone', scope: 'person', zone: 'Europe/Berlin' },
    });
    expect(commandFromOptions(slash('timezone', { zone: 'workspace America/New_York' }))).toEqual({
      ok: true,
      command: { kind: 'timezone', scope: 'workspace', zone: 'America/New_York' },
    });
    expect(commandFromOptions(slash('timezone', { zone: 'Mars/Olympus' }))).toMatchObject({ ok: false });
    expect(commandFromOptions(slash('slots'))).toEqual({ ok: true, command: { kind: 'slots', action: 'show' } });
    expect(commandFromOptions(slash('slots', { days: 'off' }))).toEqual({ ok: true, command: { kind: 'slots', action: 'off' } });
    expect(commandFromOptions(slash('slots', { days: 'mon, wed', times: '13:00, 09:00' }))).toEqual({
      ok: true,
      command: { kind: 'slots', action: 'set', slots: { days: [1, 3], times: ['09:00', '13:00'] } },
    });
  });
});

describe('a time read in the zone Discord does not tell', () => {
  it('/iqsp timezone zone:America/New_York sets the caller’s own zone, privately', async () => {
    const { record, text } = await run('bob', 'timezone', { zone: 'America/New_York' });
    expect(ephemeral(record)).toBe(true);
    expect(text).toContain('America/New_York');
  });

  it('a member who set America/New_York scheduling `at 09:30` in winter gets 14:30 UTC, shown as <t:…:F>', async () => {
    const { postId, text, record } = await schedule('bob', 'at 09:30', 'Good morning, New York');
    expect(ephemeral(record)).toBe(true);
    expect(text).toBe(`Post ${postId} is scheduled for Mon 7 Dec 09:30 EST and waiting for approval in this channel.`);
    expect(await row(postId)).toMatchObject({ scheduled_at: '2026-12-07T14:30:00.000Z', schedule_zone: 'America/New_York' });
    const embed = (await approvalOf(postId)).embeds[0]!;
    expect(embed.description).toBe(
      `Post ${postId} from <@${people().bob.id}> needs 1 approval(s): react ✅ to approve, ❌ to reject.\n` +
        `Scheduled for ${stamp('2026-12-07T14:30:00Z')}\nCaption: Good morning, New York`,
    );
    expect(embed.fields).toContainEqual({ name: 'Scheduled for', value: 'Mon 7 Dec 09:30 EST', inline: true });
  });

  it('/iqsp post when:tomorrow 09:30 from a member with no zone is read in DEFAULT_TIMEZONE (UTC)', async () => {
    const { postId, text } = await schedule('carol', 'tomorrow 09:30', 'Tuesday news');
    expect(text).toBe(`Post ${postId} is scheduled for Tue 8 Dec 09:30 UTC and waiting for approval in this channel.`);
    expect((await approvalOf(postId)).embeds[0]!.description).toContain(`\nScheduled for ${stamp('2026-12-08T09:30:00Z')}\n`);
  });

  it('zone:workspace Europe/Berlin sets the workspace’s (admins only); members without their own zone then use it', async () => {
    const refused = await run('carol', 'timezone', { zone: 'workspace Europe/Berlin' });
    expect(refused.text).toBe("Only a workspace admin can change the workspace's time zone.");
    const set = await run('alice', 'timezone', { zone: 'workspace Europe/Berlin' });
    expect(set.text).toContain('Europe/Berlin');

    const { postId, text } = await schedule('carol', 'tomorrow 09:30', 'Dienstag');
    expect(text).toBe(`Post ${postId} is scheduled for Tue 8 Dec 09:30 CET and waiting for approval in this channel.`);
    expect((await approvalOf(postId)).embeds[0]!.description).toContain(`\nScheduled for ${stamp('2026-12-08T08:30:00Z')}\n`);
    // Bob's own zone still wins over the workspace's.
    const own = await schedule('bob', 'tomorrow 09:30', 'Still New York');
    expect(own.text).toContain('scheduled for Tue 8 Dec 09:30 EST');
    expect((await row(own.postId))?.scheduled_at).toBe('2026-12-08T14:30:00.000Z');
  });

  it('/iqsp timezone without a zone says the caller’s', async () => {
    expect((await run('bob', 'timezone')).text).toContain('America/New_York');
    expect((await run('owner', 'timezone')).text).toContain('Europe/Berlin');
  });

  it('/iqsp scheduled lists the upcoming posts, privately, with times as <t:…:F>', async () => {
    const { record, text } = await run('bob', 'scheduled');
    expect(ephemeral(record)).toBe(true);
    const lines = text.split('\n');
    expect(lines[0]).toBe('**Scheduled posts** (times in America/New_York; now Mon 7 Dec 07:00 EST)');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^• \\S+ ${stamp('2026-12-07T14:30:00Z')}: X @acme \\(0 of 1 approvals\\)$`)),
      expect.stringMatching(new RegExp(`^• \\S+ ${stamp('2026-12-08T08:30:00Z')}: X @acme \\(0 of 1 approvals\\)$`)),
      expect.stringMatching(new RegExp(`^• \\S+ ${stamp('2026-12-08T09:30:00Z')}: X @acme \\(0 of 1 approvals\\)$`)),
      expect.stringMatching(new RegExp(`^• \\S+ ${stamp('2026-12-08T14:30:00Z')}: X @acme \\(0 of 1 approvals\\)$`)),
    ]);
  });
});

describe('a `when` that cannot be used is refused, naming the problem, and nothing is posted', () => {
  const cases: Array<[string, string]> = [
    ['banana', '"banana" is not a time.'],
    ['at 25:00', '"25:00" is not a time of day.'],
    ['at 2026-12-01 09:00', 'is in the past'],
    ['in 40d', 'is more than 30 days ahead'],
  ];
  it.each(cases)('when:%s', async (when, problem) => {
    const [posts, messages] = [await postCount(), h.discord.botMessages(channel()).length];
    const { record, text } = await run('carol', 'post', { targets: 'x', when, caption: 'Not like this' });
    expect(ephemeral(record)).toBe(true);
    expect(text).toContain(problem);
    expect(await postCount()).toBe(posts);
    expect(h.discord.botMessages(channel())).toHaveLength(messages);
  });

  it('`at 02:30` on a spring-forward day in the caller’s zone is refused naming the gap', async () => {
    const { text } = await run('bob', 'post', { targets: 'x', when: 'at 2027-03-14 02:30', caption: 'Lost hour' });
    expect(text).toContain('02:30 on Sun 14 Mar 2027 does not exist in America/New_York');
  });
});

describe('when:now', () => {
  it('asks to publish once approved, as without a when', async () => {
    const { text } = await run('carol', 'post', { targets: 'x', when: 'now', caption: 'Right away' });
    const postId = /^Post (\S+) is waiting for approval in this channel\.$/.exec(text)?.[1];
    expect(postId, text).toBeDefined();
    expect(await row(postId!)).toMatchObject({ scheduled_at: null, schedule_zone: null });
    expect((await approvalOf(postId!)).embeds[0]!.description).not.toContain('Scheduled for');
  });
});

describe('approved early, it waits; at its time it publishes; reschedule moves it', () => {
  it('✅ before the time: the post waits, scheduled; when the clock reaches its time it publishes', async () => {
    const { postId } = await schedule('bob', 'in 2h', 'Two hours later');
    const due = stamp(new Date(clock.getTime() + minutes(120)).toISOString());
    const message = await approvalOf(postId);
    h.discord.reactionAdd(people().alice, message.id, '✅');
    await waitInThread(message.id, /^approved by /);
    expect(threadTexts(message.id)).toEqual([`approved by <@${people().alice.id}> (1 of 1): scheduled: it publishes ${due}.`]);
    await h.discord.waitFor(
      () => message.embeds[0]?.description?.startsWith(`Post ${postId} from <@${people().bob.id}>: approved.\nScheduled for ${due}\n`),
      'the approval message to say approved, with its time',
    );
    expect(message.components).toEqual([]);
    expect((await row(postId))?.status).toBe('approved');
    // The worker polls every 20 ms: nothing goes out while its time is ahead.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.x.published.map((p) => p.caption)).not.toContain('Two hours later');

    advance(minutes(120) + 1000);
    await waitInThread(message.id, /^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/);
    expect(h.x.published.map((p) => p.caption)).toContain('Two hours later');
  });

  it('/iqsp reschedule post_id:… when:now publishes an approved post at once', async () => {
    const { postId } = await schedule('bob', 'in 3h', 'Sooner than planned');
    const message = await approvalOf(postId);
    h.discord.reactionAdd(people().alice, message.id, '✅');
    await waitInThread(message.id, new RegExp(`^approved by <@${people().alice.id}>`));

    const { record, text } = await run('bob', 'reschedule', { post_id: postId, when: 'now' });
    expect(ephemeral(record)).toBe(true);
    expect(text).toBe(`Post ${postId} publishes as soon as it is approved (it is: now).`);
    await waitInThread(message.id, /^X @acme: published /);
    expect(h.x.published.map((p) => p.caption)).toContain('Sooner than planned');
  });

  it('/iqsp reschedule post_id:… when:tomorrow 10:00 moves a waiting post; its approval message shows the new time', async () => {
    const { postId } = await schedule('bob', 'in 1h', 'Moved to tomorrow');
    const message = await approvalOf(postId);
    const { text } = await run('bob', 'reschedule', { post_id: postId.toLowerCase(), when: 'tomorrow 10:00' });
    expect(text).toBe(`Post ${postId} now publishes Tue 8 Dec 10:00 EST once approved.`);
    await waitInThread(message.id, new RegExp(`it now publishes ${stamp('2026-12-08T15:00:00Z')} once approved\\.$`));
    await h.discord.waitFor(
      () => message.embeds[0]?.description?.includes(`Scheduled for ${stamp('2026-12-08T15:00:00Z')}`),
      'the approval message to show the new time',
    );
  });

  it('reschedule refuses a `when` that is not a time, an id with spaces, and anyone but the requester or an admin', async () => {
    const { postId } = await schedule('bob', 'in 5h', 'Stays put');
    expect((await run('bob', 'reschedule', { post_id: postId, when: 'soon' })).text).toContain('"soon" is not a time.');
    expect((await run('bob', 'reschedule', { post_id: `${postId} tomorrow`, when: 'now' })).text).toMatch(/is not a post id\. Usage: /);
    expect((await run('carol', 'reschedule', { post_id: postId, when: 'now' })).text).toBe(
      `Only the person who asked for post ${postId} or an admin can reschedule it.`,
    );
    expect((await row(postId))?.scheduled_at).toBe(new Date(clock.getTime() + minutes(300)).toISOString());
  });

  it('not approved by its time, it expires, said in its thread', async () => {
    const { postId } = await schedule('carol', 'in 90m', 'Nobody looked');
    const due = stamp(new Date(clock.getTime() + minutes(90)).toISOString());
    const message = await approvalOf(postId);
    advance(minutes(90) + 1000);
    const said = await waitInThread(message.id, /^expired: /);
    expect(said).toMatch(new RegExp(`^expired: nobody approved post ${postId} by its time, ${due}; nothing was published\\.`));
    await h.discord.waitFor(() => message.embeds[0]?.description?.includes(': expired'), 'the approval message to say expired');
    expect((await row(postId))?.status).toBe('expired');
  });
});

describe('posting slots', () => {
  it('/iqsp slots days:mon-fri times:09:00, 13:00 (admins) sets them; post when:next takes the next free one; days:off clears', async () => {
    expect((await run('bob', 'slots', { days: 'mon-fri', times: '09:00,13:00' })).text).toContain('admin');
    const set = await run('alice', 'slots', { days: 'mon-fri', times: '09:00, 13:00' });
    expect(set.text).toContain('Mon–Fri at 09:00, 13:00');
    expect((await run('bob', 'slots')).text).toContain('Mon–Fri at 09:00, 13:00');

    // Past Monday's 13:00 in Berlin, the next free slot is Tuesday 09:00 CET.
    expect(clock.getTime()).toBeGreaterThan(Date.parse('2026-12-07T12:00:00Z'));
    const first = await schedule('carol', 'next', 'First slot');
    expect((await row(first.postId))?.scheduled_at).toBe('2026-12-08T08:00:00.000Z');
    const second = await schedule('carol', 'next', 'Second slot');
    expect((await row(second.postId))?.scheduled_at).toBe('2026-12-08T12:00:00.000Z');

    expect((await run('alice', 'slots', { days: 'off' })).text).toBe('Posting slots are off: `post … next` needs slots again to work.');
    const none = await run('carol', 'post', { targets: 'x', when: 'next', caption: 'No slot' });
    expect(none.text).toContain('There is no free posting slot');
  });

  it('a days without times is refused with the grammar’s words', async () => {
    expect((await run('alice', 'slots', { days: 'mon-fri' })).text).toContain('slots takes days and times.');
  });
});

describe('a message that mentions the bot', () => {
  it('`@IQSP post x in 2h Hello` with an attachment schedules it, the DM says when', async () => {
    const before = h.discord.botMessages(channel()).length;
    const due = new Date(clock.getTime() + minutes(120));
    const image = h.discord.attachment('hello.png', 'image/png', await pngBytes(300, 300), { width: 300, height: 300 });
    h.discord.userMessage(people().bob, `<@${h.discord.world.bot.id}> post x in 2h Hello`, [image]);
    const message = await h.discord.waitFor(
      () =>
        h.discord
          .botMessages(channel())
          .slice(before)
          .find((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post')),
      'the approval message',
    );
    const postId = message.embeds[0]!.fields!.find((f) => f.name === 'Post')!.value;
    expect(message.embeds[0]!.description).toContain(`\nScheduled for ${stamp(due.toISOString())}\nCaption: Hello`);
    expect(message.embeds[0]!.image?.url).toMatch(/\/media\//);
    expect(await row(postId)).toMatchObject({ scheduled_at: due.toISOString(), schedule_zone: 'America/New_York' });
    const dm = await h.discord.waitFor(
      () => h.discord.dmMessages(people().bob.id).find((m) => m.content.startsWith(`Post ${postId} is scheduled for `)),
      'the DM',
    );
    expect(dm.content).toContain('and waiting for approval in this channel.');
  });
});
