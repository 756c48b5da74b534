/**
 * Signed requests and every command of contract.md §4, through `/iqsp …` and through
 * messages that mention the bot, against the real Koa server and Bolt app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRequest, eventRequest, slackSignature } from '../../simulators/slack.js';
import { json, SIGNING_SECRET, SlackHarness, until } from './harness.js';

let h: SlackHarness;

beforeAll(async () => {
  h = await SlackHarness.start();
});
afterAll(async () => {
  await h?.close();
});

async function count(table: 'chat_users' | 'chat_events' | 'workspaces'): Promise<number> {
  return (
    await h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;
}

describe('signature checks come first', () => {
  it('refuses a bad signature with 401 and does nothing else', async () => {
    const before = h.fake.calls.length;
    const request = commandRequest('slash-command', { text: 'connect x', response_url: h.fake.responseUrl() });
    const response = await h.send(request, { signature: slackSignature('not-the-secret', Math.floor(Date.now() / 1000), request.body) });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('');
    await h.surface.settled();
    expect(h.fake.calls.length).toBe(before);
    expect(h.fake.responses).toHaveLength(0);
    expect(await count('workspaces')).toBe(0);
    expect(await count('chat_users')).toBe(0);
  });

  it('refuses a stale timestamp (over 5 minutes old) and one from the future, even when correctly signed', async () => {
    const stale = await h.send(commandRequest('slash-command', { text: 'help', response_url: h.fake.responseUrl() }), {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(stale.status).toBe(401);
    const future = await h.send(commandRequest('slash-command', { text: 'help', response_url: h.fake.responseUrl() }), {
      timestamp: Math.floor(Date.now() / 1000) + 600,
    });
    expect(future.status).toBe(401);
    const event = await h.send(eventRequest('event-app-mention', { event_id: 'Ev0STALE' }), {
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect(event.status).toBe(401);
    await h.surface.settled();
    expect(h.fake.calls).toHaveLength(0);
    expect(await count('chat_events')).toBe(0);
  });

  it('refuses a body whose signature was made for another body', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signed = commandRequest('slash-command', { text: 'help', response_url: h.fake.responseUrl() });
    const forged = commandRequest('slash-command', { text: 'approvals 0', response_url: h.fake.responseUrl() });
    const response = await h.send(forged, { timestamp, signature: slackSignature(SIGNING_SECRET, timestamp, signed.body) });
    expect(response.status).toBe(401);
  });

  it('answers url_verification with the challenge, and ssl_check with 200', async () => {
    const response = await h.send(eventRequest('event-url-verification'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    const ssl = await fetch(`${h.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ssl_check=1&token=x',
    });
    expect(ssl.status).toBe(200);
  });

  it('answers a malformed but signed body with 400', async () => {
    const response = await h.send({ kind: 'event', body: '{"type": "event_callback", ', contentType: 'application/json' });
    expect(response.status).toBe(400);
  });
});

describe('/iqsp commands', () => {
  it('acknowledges at once with an empty 200 and answers help privately through the response_url', async () => {
    const { response, responseUrl } = await h.command('help');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const reply = await h.replyTo(responseUrl);
    expect(reply.responseType).toBe('ephemeral');
    expect(reply.text).toContain('IQSP commands');
    expect(reply.text).toContain('Platforms enabled here: X, TikTok.');
    expect(reply.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    // The bot token went to Slack only in the Authorization header, and never into a log line.
    expect(h.calls('users.info')[0]?.token).toBe(h.fake.workspace.botToken);
    expect(h.logs.join('')).not.toContain(h.fake.workspace.botToken);
  });

  it('connect x: a private link with a link button', async () => {
    const { responseUrl } = await h.command('connect x');
    const reply = await h.replyTo(responseUrl);
    expect(reply.responseType).toBe('ephemeral');
    expect(reply.text).toMatch(new RegExp(`Connect X: ${h.url}/connect/[A-Za-z0-9_-]{20,}`));
    const actions = reply.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; url?: string }> };
    expect(actions.elements[0]).toMatchObject({ action_id: 'open_connect_link' });
    expect(actions.elements[0]?.url).toMatch(/\/connect\//);
    // The link's click is acknowledged and changes nothing.
    const click = await h.interactive('block-actions-button', {
      actions: [
        {
          action_id: 'open_connect_link',
          block_id: 'b',
          type: 'button',
          value: actions.elements[0]!.url,
          text: { type: 'plain_text', text: 'Connect X' },
          action_ts: '1',
        },
      ],
    });
    expect(click.status).toBe(200);
  });

  it('accounts, disconnect, status/cancel/retry with an unknown id, and an unknown command', async () => {
    expect((await h.replyTo((await h.command('accounts')).responseUrl)).text).toMatch(/No account is connected/);
    expect((await h.replyTo((await h.command('disconnect x')).responseUrl)).text).toMatch(/not connected|no X account/i);
    for (const verb of ['status', 'cancel', 'retry'])
      expect((await h.replyTo((await h.command(`${verb} ZZZZ999`)).responseUrl)).text).toMatch(/There is no post ZZZZ999/);
    expect((await h.replyTo((await h.command('frobnicate')).responseUrl)).text).toMatch(/I don't know the command "frobnicate"/);
  });

  it('approvers and approvals are for workspace admins and owners (users.info)', async () => {
    const denied = await h.replyTo((await h.command('approvals 2')).responseUrl);
    expect(denied.text).toMatch(/Only a workspace admin/);
    const changed = await h.replyTo((await h.command('approvals 2', { user_id: 'U0ADMIN', user_name: 'ada' })).responseUrl);
    expect(changed.responseType).toBe('in_channel');
    expect(changed.text).toBe('Posts in this workspace now need 2 approval(s).');
    // Slack escapes the mention (should_escape): "<@U0BOB|bob>".
    const added = await h.replyTo(
      (await h.command('approvers add <@U0BOB|bob> <@U0CAROL>', { user_id: 'U0OWNER', user_name: 'olga' })).responseUrl,
    );
    // Both were added in the same millisecond; their order is not defined.
    expect(added.text).toMatch(/^Approvers: (<@U0BOB>, <@U0CAROL>|<@U0CAROL>, <@U0BOB>)\. A post needs 2 approval\(s\)\.$/);
    const listed = await h.replyTo((await h.command('approvers')).responseUrl);
    expect(listed.text).toContain('<@U0BOB>');
    const audit = await h.replyTo((await h.command('audit', { user_id: 'U0ADMIN' })).responseUrl);
    expect(audit.text).toContain('settings.changed');
    await h.command('approvers remove <@U0BOB> <@U0CAROL>', { user_id: 'U0ADMIN' });
    await h.command('approvals 1', { user_id: 'U0ADMIN' });
  });

  it("data: a JSON file uploaded to the user's DM (getUploadURLExternal, upload, completeUploadExternal)", async () => {
    const { responseUrl } = await h.command('data', { user_id: 'U0BOB', user_name: 'bob' });
    expect((await h.replyTo(responseUrl)).text).toBe('Your data export is in your direct messages.');
    const open = h.calls('conversations.open').find((c) => c.args.users === 'U0BOB');
    expect(open).toBeDefined();
    const complete = await h.fake.waitForCall('files.completeUploadExternal', (c) => c.args.channel_id === 'D0BOB');
    const [file] = json<Array<{ id: string }>>(complete.args.files);
    const upload = h.fake.uploads.get(file!.id)!;
    expect(upload.filename).toMatch(/^iqsp-data-U0BOB-\d{4}-\d{2}-\d{2}\.json$/);
    const document = JSON.parse(upload.bytes.toString('utf8')) as { format: string; you: { userId: string } };
    expect(document.format).toBe('iqsp-data-export/1');
    expect(document.you.userId).toBe('U0BOB');
    expect(upload.initialComment).toMatch(/tokens are never included/);
  });

  it('delete-my-data asks to confirm; the confirm button deletes, answered in place', async () => {
    const ask = await h.replyTo((await h.command('delete-my-data', { user_id: 'U0BOB' })).responseUrl);
    expect(ask.text).toMatch(/To go ahead, type `delete-my-data confirm`/);
    const actions = ask.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements[0]).toMatchObject({ action_id: 'delete_my_data_confirm', value: 'confirm' });
    const responseUrl = h.fake.responseUrl();
    await h.interactive('block-actions-button', {
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0001' },
      container: { type: 'message', message_ts: '1700000000.000900', channel_id: 'C0GENERAL', is_ephemeral: true },
      response_url: responseUrl,
      actions: [
        {
          action_id: 'delete_my_data_confirm',
          block_id: 'b',
          type: 'button',
          value: 'confirm',
          style: 'danger',
          text: { type: 'plain_text', text: 'Delete my data' },
          action_ts: '1',
        },
      ],
    });
    const done = await h.replyTo(responseUrl);
    expect(done.text).toMatch(/^deleted: your data in this workspace/);
    const post = h.fake.responses.find((r) => r.id === responseUrl.split('/').pop())!;
    expect(post.body.replace_original).toBe(true);
    const bob = await h.db.selectFrom('chat_users').select('id').where('external_id', '=', 'U0BOB').executeTakeFirst();
    expect(bob).toBeUndefined();
  });

  it('post without any connected account says so instead of opening the modal', async () => {
    const reply = await h.replyTo((await h.command('post x Hello')).responseUrl);
    expect(reply.text).toMatch(/^No account is connected in this workspace yet/);
    expect(h.calls('views.open')).toHaveLength(0);
  });

  it('falls back to chat.postEphemeral when the response_url fails', async () => {
    const request = commandRequest('slash-command', { text: 'help', response_url: `${h.fake.url}/nowhere` });
    expect((await h.send(request)).status).toBe(200);
    await h.surface.settled();
    const ephemeral = await h.fake.waitForCall(
      'chat.postEphemeral',
      (c) => c.args.user === 'U0ALICE' && String(c.args.text).includes('IQSP commands'),
    );
    expect(ephemeral.args.channel).toBe('C0GENERAL');
  });
});

describe('messages that mention the bot', () => {
  it('"@IQSP connect x" answers ephemerally in the channel', async () => {
    await h.event('event-app-mention', {
      event_id: 'Ev0CONNECT',
      event: { text: '<@U0BOT> connect x', ts: '1700001000.000100', event_ts: '1700001000.000100' },
    });
    const reply = await h.fake.waitForCall(
      'chat.postEphemeral',
      (c) => c.args.user === 'U0ALICE' && String(c.args.text).startsWith('Connect X:'),
    );
    expect(reply.args.channel).toBe('C0GENERAL');
  });

  it('the same message as `message` and as `app_mention` acts once', async () => {
    const ts = '1700001100.000100';
    const before = h.calls('chat.postEphemeral').length;
    await Promise.all([
      h.event('event-message', { event_id: 'Ev0TWIN0001', event: { text: '<@U0BOT> accounts', ts, event_ts: ts } }),
      h.event('event-app-mention', { event_id: 'Ev0TWIN0002', event: { text: '<@U0BOT> accounts', ts, event_ts: ts } }),
    ]);
    await until(() => h.calls('chat.postEphemeral').length > before, 'a reply');
    await h.surface.settled();
    expect(h.calls('chat.postEphemeral').slice(before)).toHaveLength(1);
  });

  it('a Slack retry of the same event id acts once', async () => {
    const before = h.calls('chat.postEphemeral').length;
    const event = { event_id: 'Ev0RETRY001', event: { text: '<@U0BOT> help', ts: '1700001200.000100', event_ts: '1700001200.000100' } };
    expect((await h.event('event-app-mention', event)).status).toBe(200);
    // Slack thought the first delivery failed and sends it again.
    expect((await h.event('event-app-mention', event, { retryNum: 1 })).status).toBe(200);
    expect((await h.event('event-app-mention', event, { retryNum: 2 })).status).toBe(200);
    expect(h.calls('chat.postEphemeral').slice(before)).toHaveLength(1);
    const claimed = await h.db.selectFrom('chat_events').select('id').where('id', '=', 'slack:event:Ev0RETRY001').execute();
    expect(claimed).toHaveLength(1);
  });

  it('a channel message without the mention is ignored; a direct message is a command', async () => {
    const before = h.fake.calls.length;
    await h.event('event-message', {
      event_id: 'Ev0CHATTER',
      event: { text: 'lunch anyone?', ts: '1700001300.000100', event_ts: '1700001300.000100' },
    });
    expect(h.fake.calls.length).toBe(before);
    await h.event('event-message', {
      event_id: 'Ev0DIRECT1',
      event: { text: 'help', channel: 'D0ALICE', channel_type: 'im', ts: '1700001400.000100', event_ts: '1700001400.000100' },
    });
    const reply = await h.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'D0ALICE' && String(c.args.text).includes('IQSP commands'),
    );
    expect(reply.args.thread_ts).toBeUndefined();
  });

  it("ignores the bot's own messages and other bots", async () => {
    const before = h.fake.calls.length;
    await h.event('event-message', {
      event_id: 'Ev0OWNMSG1',
      event: {
        text: '<@U0BOT> help',
        user: 'U0BOT',
        bot_id: 'B0BOT',
        subtype: 'bot_message',
        ts: '1700001500.000100',
        event_ts: '1700001500.000100',
      },
    });
    await h.event('event-message', {
      event_id: 'Ev0BOTMSG1',
      event: { text: '<@U0BOT> help', user: 'U0OTHERBOT', bot_id: 'B0OTHER', ts: '1700001600.000100', event_ts: '1700001600.000100' },
    });
    expect(h.fake.calls.length).toBe(before);
  });
});
