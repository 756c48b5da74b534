/**
 * `/iqsp` end to end: registration with the fake API, then every sub-command delivered as
 * INTERACTION_CREATE over the fake gateway to the real discord.js client of the app, with the
 * answers read back from the fake's interaction callbacks, webhooks, channel and DMs.
 */
import { ApplicationCommandOptionType, ButtonStyle, ComponentType, InteractionResponseType, MessageFlags } from 'discord.js';
import type { APIApplicationCommandSubcommandOption, APIButtonComponent, APIMessage } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDiscordCommands } from '../../../src/bots/discord/commands.js';
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

/** Runs a sub-command as `user`; resolves with the interaction once it is answered. */
async function run(user: keyof ReturnType<typeof people>, subcommand: string, options: Record<string, string | number | boolean> = {}) {
  const record = h.discord.commandInteraction(people()[user], subcommand, options);
  return h.discord.answered(record);
}

function buttons(message: APIMessage | undefined): APIButtonComponent[] {
  return (message?.components ?? []).flatMap((row) => ('components' in row ? (row.components as APIButtonComponent[]) : []));
}

describe('registration', () => {
  it('PUTs /iqsp to one guild, with a sub-command per command and the contract option names', async () => {
    const result = await registerDiscordCommands({
      token: h.discord.token,
      applicationId: h.discord.world.applicationId,
      apiUrl: h.discord.apiUrl,
      guildId: h.discord.world.guildId,
    });
    expect(result).toEqual({ scope: 'guild', commands: ['iqsp'] });
    const [call] = h.discord.callsTo('PUT', /\/commands$/);
    expect(call!.path).toBe(`/applications/${h.discord.world.applicationId}/guilds/${h.discord.world.guildId}/commands`);
    expect(call!.authorized).toBe(true);
    const [command] = call!.body as Array<{ name: string; contexts: number[]; options: APIApplicationCommandSubcommandOption[] }>;
    expect(command!.name).toBe('iqsp');
    expect(command!.contexts).toEqual([0]);
    const subs = Object.fromEntries(
      command!.options.map((s) => [
        s.name,
        (s.options ?? []).map((o) => `${o.name}:${ApplicationCommandOptionType[o.type]}${o.required ? '!' : ''}`),
      ]),
    );
    expect(subs).toEqual({
      help: [],
      connect: ['platform:String!'],
      accounts: [],
      post: [
        'targets:String!',
        'caption:String',
        'when:String',
        'media1:Attachment',
        'media2:Attachment',
        'media3:Attachment',
        'media4:Attachment',
        'tiktok_privacy:String',
        'youtube_privacy:String',
      ],
      status: ['post_id:String!'],
      cancel: ['post_id:String!'],
      retry: ['post_id:String!'],
      verify: ['post_id:String!'],
      disconnect: ['platform:String!', 'handle:String'],
      data: [],
      'delete-my-data': ['confirm:Boolean'],
      approvers: ['action:String', 'users:String'],
      approvals: ['count:Integer!'],
      audit: [],
      scheduled: [],
      edit: ['post_id:String!', 'caption:String!', 'target:String'],
      reschedule: ['post_id:String!', 'when:String!'],
      timezone: ['zone:String'],
      slots: ['days:String', 'times:String'],
    });
    const connect = command!.options.find((s) => s.name === 'connect')!.options![0]!;
    expect('choices' in connect && connect.choices!.map((c) => c.value)).toEqual([
      'facebook',
      'instagram',
      'x',
      'tiktok',
      'linkedin',
      'youtube',
      'threads',
      'bluesky',
    ]);
  });

  it('PUTs the global command list without --guild', async () => {
    const result = await registerDiscordCommands({
      token: h.discord.token,
      applicationId: h.discord.world.applicationId,
      apiUrl: h.discord.apiUrl,
    });
    expect(result.scope).toBe('global');
    expect(h.discord.callsTo('PUT', /\/commands$/).at(-1)!.path).toBe(`/applications/${h.discord.world.applicationId}/commands`);
  });

  it('stays within Discord’s limits: 25 sub-commands and options each, descriptions of 1–100 characters, 8000 in all', async () => {
    await registerDiscordCommands({ token: h.discord.token, applicationId: h.discord.world.applicationId, apiUrl: h.discord.apiUrl });
    const [command] = h.discord.callsTo('PUT', /\/commands$/).at(-1)!.body as Array<{
      name: string;
      description: string;
      options: APIApplicationCommandSubcommandOption[];
    }>;
    const named: Array<{ name: string; description: string }> = [command!];
    let choices = 0;
    expect(command!.options.length).toBeLessThanOrEqual(25);
    for (const sub of command!.options) {
      named.push(sub);
      expect(sub.options?.length ?? 0).toBeLessThanOrEqual(25);
      for (const option of sub.options ?? []) {
        named.push(option);
        if ('choices' in option) for (const c of option.choices ?? []) choices += c.name.length + String(c.value).length;
      }
    }
    for (const { name, description } of named) {
      expect(name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(description.length, `the description of ${name}`).toBeGreaterThanOrEqual(1);
      expect(description.length, `the description of ${name}: ${description}`).toBeLessThanOrEqual(100);
    }
    const total = named.reduce((sum, n) => sum + n.name.length + n.description.length, choices);
    expect(total).toBeLessThanOrEqual(8000);
  });
});

describe('every command through INTERACTION_CREATE', () => {
  it('help: deferred ephemerally at once, then the deferral is edited with the commands', async () => {
    const record = await run('bob', 'help');
    const calls = h.discord.calls.filter((c) => c.path.includes(record.token));
    expect(calls[0]!.path).toBe(`/interactions/${record.id}/${record.token}/callback`);
    expect(calls[0]!.body).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    expect(calls[0]!.authorized).toBe(false);
    expect(calls[1]!.method).toBe('PATCH');
    expect(calls[1]!.path).toBe(`/webhooks/${h.discord.world.applicationId}/${record.token}/messages/@original`);
    expect(record.original!.flags! & MessageFlags.Ephemeral).toBeTruthy();
    expect(record.original!.content).toContain('**IQSP commands**');
    expect(record.original!.content).toContain('Platforms enabled here: X.');
  });

  it('connect: a private single-use link, with a link button', async () => {
    const record = await run('carol', 'connect', { platform: 'x' });
    expect(record.original!.flags! & MessageFlags.Ephemeral).toBeTruthy();
    expect(record.original!.content).toMatch(/^Connect X: http:\/\/127\.0\.0\.1:\d+\/connect\/\S+\nThis link is only for you/);
    const [button] = buttons(record.original);
    expect(button).toMatchObject({ type: ComponentType.Button, style: ButtonStyle.Link, label: 'Connect X' });
    const url = 'url' in button! ? button.url : '';
    expect(record.original!.content).toContain(url);
    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toMatch(/^https:\/\/x\.com\/i\/oauth2\/authorize\?/);
  });

  it('accounts: the connected accounts, privately', async () => {
    const record = await run('bob', 'accounts');
    expect(record.original!.content).toContain(`X @acme — connected by <@${people().alice.id}> — token ok`);
  });

  it('post with an attachment option: the file is downloaded from its URL and the approval message posted', async () => {
    const image = h.discord.attachment('launch.png', 'image/png', await pngBytes(), { width: 64, height: 48 });
    const record = h.discord.commandInteraction(people().bob, 'post', { targets: 'x', caption: 'Launch day 🚀' }, { media1: image });
    await h.discord.answered(record);
    const postId = /Post (\w+) is waiting for approval/.exec(record.original!.content)?.[1];
    expect(postId).toBeDefined();
    const approval = h.discord.botMessages(h.discord.world.channelId).find((m) => m.embeds[0]?.fields?.some((f) => f.value === postId));
    expect(approval!.embeds[0]!.description).toContain('Caption: Launch day 🚀');
    expect(approval!.embeds[0]!.image!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\//);
    const row = await h.app.services.db
      .selectFrom('media')
      .select(['original_name', 'mime_type', 'width'])
      .where('post_id', '=', postId!)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ original_name: 'launch.png', mime_type: 'image/png', width: 64 });
  });

  it('post: a target that does not parse is refused privately, naming it', async () => {
    const record = await run('bob', 'post', { targets: 'myspace', caption: 'hello' });
    expect(record.original!.content).toBe(
      '"myspace" is not a platform or an @handle. Platforms: facebook, instagram, x, tiktok, linkedin, youtube, threads, bluesky.',
    );
  });

  it('status, cancel and retry: by post id', async () => {
    const posted = await run('bob', 'post', { targets: 'x', caption: 'To be cancelled' });
    const postId = /Post (\w+) is waiting/.exec(posted.original!.content)![1]!;

    const status = await run('carol', 'status', { post_id: postId.toLowerCase() });
    expect(status.original!.content).toBe(`Post ${postId}: pending approval\n• X @acme: waiting for approval`);

    const notYours = await run('carol', 'cancel', { post_id: postId });
    expect(notYours.original!.content).toBe(`Only the person who asked for post ${postId} or an admin can cancel it.`);

    const retry = await run('bob', 'retry', { post_id: postId });
    expect(retry.original!.content).toBe(`Post ${postId} has no target that failed for a reason a retry can fix.`);

    const verify = await run('carol', 'verify', { post_id: postId });
    expect(verify.original!.content).toBe(`Post ${postId} has no unconfirmed target: nothing to verify.`);

    const cancel = await run('bob', 'cancel', { post_id: postId });
    expect(cancel.original!.content).toBe(`cancelled: X @acme of post ${postId}.`);
    const thread = await h.discord.waitFor(() => h.discord.threads().find((t) => t.name === `Post ${postId}`), 'the post thread');
    expect(h.discord.botMessages(thread.id).map((m) => m.content)).toEqual([`cancelled by <@${people().bob.id}>: X @acme.`]);

    const unknown = await run('bob', 'status', { post_id: 'ZZZZ999' });
    expect(unknown.original!.content).toBe('There is no post ZZZZ999 in this workspace. Post ids are shown on approval messages.');
  });

  it('approvers: admins (Manage Server) add and remove; others may only list', async () => {
    const refused = await run('bob', 'approvers', { action: 'add', users: `<@${people().carol.id}>` });
    expect(refused.original!.content).toBe('Only a workspace admin can change the approvers.');

    const added = await run('alice', 'approvers', { action: 'add', users: `<@${people().carol.id}> <@${people().bob.id}>` });
    // Both were added in the same instant: the list may name them in either order.
    expect([
      `Approvers: <@${people().carol.id}>, <@${people().bob.id}>. A post needs 1 approval(s).`,
      `Approvers: <@${people().bob.id}>, <@${people().carol.id}>. A post needs 1 approval(s).`,
    ]).toContain(added.original!.content);
    const removed = await run('owner', 'approvers', { action: 'remove', users: `<@${people().carol.id}> <@${people().bob.id}>` });
    expect(removed.original!.content).toBe('Approvers: any member except the person who asked. A post needs 1 approval(s).');
    const listed = await run('bob', 'approvers');
    expect(listed.original!.content).toBe('Approvers: any member except the person who asked. A post needs 1 approval(s).');
  });

  it('approvals: an admin sets it and the channel is told; the deferral is removed', async () => {
    const refused = await run('carol', 'approvals', { count: 2 });
    expect(refused.original!.content).toBe('Only a workspace admin can change how many approvals a post needs.');

    const record = await run('alice', 'approvals', { count: 2 });
    expect(record.originalDeleted).toBe(true);
    const told = h.discord.botMessages(h.discord.world.channelId).at(-1)!;
    expect(told.content).toBe('Posts in this workspace now need 2 approval(s).');
    await run('alice', 'approvals', { count: 1 });
  });

  it('audit: admins read the latest entries', async () => {
    const record = await run('alice', 'audit');
    expect(record.original!.content).toMatch(/^\*\*Audit log \(latest 20\)\*\*\n• .* settings\.changed/);
  });

  it('data: the JSON export arrives as a file in a DM; the command answers privately', async () => {
    const record = await run('bob', 'data');
    expect(record.original!.content).toBe('Your data export is in your direct messages.');
    expect(
      h.discord
        .callsTo('POST', /^\/users\/@me\/channels$/)
        .some((c) => (c.body as { recipient_id: string }).recipient_id === people().bob.id),
    ).toBe(true);
    const [dm] = h.discord.dmMessages(people().bob.id);
    expect(dm!.content).toBe('Everything IQSP stores about you in this workspace (tokens are never included).');
    const upload = h.discord.calls.find((c) => c.method === 'POST' && c.path === `/channels/${dm!.channel_id}/messages`)!;
    expect(upload.files).toHaveLength(1);
    expect(upload.files[0]!.filename).toMatch(new RegExp(`^iqsp-data-${people().bob.id}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    expect(upload.files[0]!.contentType).toBe('application/json');
    const exported = JSON.parse(upload.files[0]!.text) as { you: { chat: string; userId: string; workspaceId: string }; posts: unknown[] };
    expect(exported.you).toMatchObject({ chat: 'discord', userId: people().bob.id, workspaceId: h.discord.world.guildId });
    expect(exported.posts.length).toBeGreaterThanOrEqual(2);
    expect(upload.files[0]!.text).not.toContain('x-access-acme');
  });

  it('data: when the user refuses DMs from the server, the file comes as an ephemeral follow-up instead', async () => {
    h.discord.world.dmsClosed.add(people().carol.id);
    try {
      const record = await run('carol', 'data');
      expect(record.original!.content).toBe('Your data export is in your direct messages.');
      const [followUp] = record.followUps;
      expect(followUp!.flags! & MessageFlags.Ephemeral).toBeTruthy();
      expect(followUp!.attachments[0]!.filename).toMatch(/^iqsp-data-.*\.json$/);
    } finally {
      h.discord.world.dmsClosed.delete(people().carol.id);
    }
  });

  it('disconnect: the connector (or an admin) disconnects; the channel is told', async () => {
    const refused = await run('bob', 'disconnect', { platform: 'x', handle: '@acme' });
    expect(refused.original!.content).toBe('Only the person who connected X @acme or a workspace admin can disconnect it.');
    const record = await run('alice', 'disconnect', { platform: 'x', handle: 'acme' });
    expect(record.originalDeleted).toBe(true);
    expect(h.discord.botMessages(h.discord.world.channelId).at(-1)!.content).toBe('disconnected: X @acme (its tokens are deleted)');
    expect(h.x.revoked).toEqual(['x-acme']);
  });

  it('delete-my-data: asks first with a button; the button deletes', async () => {
    const asked = await run('bob', 'delete-my-data');
    expect(asked.original!.content).toMatch(/^This deletes 0 connected account\(s\), \d+ post\(s\) with their media and results/);
    const [button] = buttons(asked.original);
    expect(button).toMatchObject({ style: ButtonStyle.Danger, label: 'Delete my data', custom_id: 'delete_my_data_confirm:confirm' });

    const click = h.discord.buttonClick(people().bob, asked.original!, 'delete_my_data_confirm:confirm');
    await h.discord.waitFor(
      () => click.callbacks.length > 0 && h.discord.calls.some((c) => c.method === 'PATCH' && c.path.includes(click.token)),
      'the confirmation to be replaced',
    );
    expect(click.callbacks[0]!.type).toBe(InteractionResponseType.DeferredMessageUpdate);
    expect(asked.original!.content).toMatch(/deleted/);
    expect(asked.original!.components).toEqual([]);
    const rows = await h.app.services.db
      .selectFrom('posts')
      .innerJoin('chat_users', 'chat_users.id', 'posts.requester_id')
      .select('posts.id')
      .where('chat_users.external_id', '=', people().bob.id)
      .execute();
    expect(rows).toEqual([]);
  });

  it('delete-my-data confirm:true deletes at once', async () => {
    await run('carol', 'help');
    const record = await run('carol', 'delete-my-data', { confirm: true });
    expect(record.original!.content).toMatch(/deleted/);
  });

  /** Bob's `/iqsp help` as the gateway delivers it, with the id and token given. */
  const bobsHelp = (id: string, token: string) => ({
    id,
    token,
    application_id: h.discord.world.applicationId,
    type: 2,
    version: 1,
    guild_id: h.discord.world.guildId,
    channel_id: h.discord.world.channelId,
    channel: { id: h.discord.world.channelId, type: 0, guild_id: h.discord.world.guildId },
    member: { ...h.discord.world.member(people().bob.id), permissions: '0' },
    app_permissions: '0',
    locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: {},
    context: 0,
    data: { id: '1', name: 'iqsp', type: 1, options: [{ name: 'help', type: 1, options: [] }] },
  });

  it('the same interaction delivered twice is answered once', async () => {
    const before = h.discord.calls.length;
    const record = h.discord.commandInteraction(people().bob, 'help');
    const again = { ...record };
    // Replay the very same INTERACTION_CREATE (same id and token), as a resumed session may.
    h.discord.gateway.dispatch('INTERACTION_CREATE', bobsHelp(again.id, again.token));
    await h.discord.answered(record);
    // Events are handled in order: once a later command is answered, the replay has been handled too.
    await run('bob', 'help');
    const mine = h.discord.calls.slice(before).filter((c) => c.path.includes(record.token));
    expect(mine.map((c) => c.method)).toEqual(['POST', 'PATCH']);
  });

  it('logs a failed answer without the interaction token or the bot token', async () => {
    // An interaction Discord no longer knows (expired after 15 minutes): the callback answers 404.
    const token = 'interaction-token-expired-0001';
    h.discord.gateway.dispatch('INTERACTION_CREATE', bobsHelp('1300000000000000001', token));
    const line = await h.discord.waitFor(() => h.logs.find((l) => l.includes('Unknown interaction')), 'the failure to be logged');
    expect(JSON.parse(line)).toMatchObject({
      level: 'error',
      err: {
        status: 404,
        discordCode: 10062,
        request: `POST ${h.discord.apiUrl}/v10/interactions/1300000000000000001/[redacted]/callback?with_response=false`,
      },
    });
    expect(h.logs.join('')).not.toContain(token);
    expect(h.logs.join('')).not.toContain(h.discord.token);
  });
});
