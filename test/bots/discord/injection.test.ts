/**
 * Finding 6 (issue 13), Discord: user text — a caption, an account's name, an unknown command —
 * never pings @everyone, @here or a role, and `[Approve](https://evil)` in it shows literally
 * instead of as a disguised link. Every message names in `allowed_mentions` exactly the people
 * IQSP means to ping. Asserted on the REST bodies the fake Discord received.
 */
import type { APIMessage } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../simulators/discord/index.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
const EVIL_HANDLE = 'acme[Approve](https://evil.example/login)';

beforeAll(async () => {
  h = await startHarness();
  await h.connectX(h.discord.world.people.alice.id, EVIL_HANDLE);
});
afterAll(async () => {
  await h?.close();
});

const people = () => h.discord.world.people;
const mention = () => `<@${h.discord.world.bot.id}>`;

/** The REST call that created `message` (a POST to its channel's messages). */
function creating(message: APIMessage): Record<string, unknown> {
  const call = h.discord.callsTo('POST', new RegExp(`^/channels/${message.channel_id}/messages$`)).find((c: RecordedCall) => {
    const body = c.body as { content?: string; embeds?: Array<{ description?: string }> };
    return (
      body.content === (message.content || undefined) && (body.embeds?.[0]?.description ?? '') === (message.embeds[0]?.description ?? '')
    );
  });
  if (!call) throw new Error(`no POST created message ${message.id}`);
  return call.body as Record<string, unknown>;
}

describe('user text in Discord messages pings nobody and links nowhere', () => {
  it('the approval message of a caption with @everyone, @here, a role and a masked link: escaped, and allowed_mentions empty', async () => {
    const role = h.discord.world.adminRoleId;
    const before = h.discord.botMessages(h.discord.world.channelId).length;
    h.discord.userMessage(people().bob, `${mention()} post x Launch @everyone @here <@&${role}> [Approve](https://evil.example/login) now`);
    const message = await h.discord.waitFor(
      () =>
        h.discord
          .botMessages(h.discord.world.channelId)
          .slice(before)
          .find((m) => m.embeds[0]?.fields?.some((f) => f.name === 'Post')),
      'the approval message',
    );
    const postId = message.embeds[0]!.fields!.find((f) => f.name === 'Post')!.value;
    const body = creating(message);
    expect(body.allowed_mentions).toEqual({ parse: [], users: [], replied_user: false });
    const embed = (body.embeds as Array<{ description: string; fields: Array<{ name: string; value: string }> }>)[0]!;
    expect(embed.description).toBe(
      `Post ${postId} from <@${people().bob.id}> needs 1 approval(s): react ✅ to approve, ❌ to reject.\n` +
        `Caption: Launch @everyone @here <@&${role}> \\[Approve](https://evil.example/login) now`,
    );
    expect(embed.fields.find((f) => f.name === 'Targets')!.value).toBe('X @acme\\[Approve](https://evil.example/login)');
  });

  it('a reply in content pings only the person IQSP names, and shows a name with a masked link literally', async () => {
    const before = h.discord.dmMessages(people().alice.id).length;
    h.discord.userMessage(people().alice, `${mention()} accounts`);
    const dm = await h.discord.waitFor(() => h.discord.dmMessages(people().alice.id)[before], 'the accounts reply by DM');
    expect(dm.content).toContain(`X @acme\\[Approve](https://evil.example/login)`);
    expect(dm.content).toContain(`connected by <@${people().alice.id}>`);
    expect(creating(dm).allowed_mentions).toEqual({ parse: [], users: [people().alice.id], replied_user: false });
  });

  it('an unknown command echoed back: its masked link escaped, nobody pinged', async () => {
    const before = h.discord.dmMessages(people().carol.id).length;
    h.discord.userMessage(people().carol, `${mention()} [Approve](https://evil.example/login)`);
    const dm = await h.discord.waitFor(() => h.discord.dmMessages(people().carol.id)[before], 'the reply by DM');
    expect(dm.content).toBe('I don\'t know the command "\\[Approve](https://evil.example/login)". Type `help` for the commands.');
    expect(creating(dm).allowed_mentions).toEqual({ parse: [], users: [], replied_user: false });
  });
});
