/**
 * The other ways the Slack surface runs: the multi-workspace install (installation sealed in
 * the database, deleted on app_uninstalled / tokens_revoked), Socket Mode, and a modal
 * submission that takes longer than Slack's 3 seconds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRequest, eventRequest, fixture, type FakeSlackWorkspace } from '../../simulators/slack.js';
import { everyRowAsText, onPostgres } from '../../helpers/db.js';
import { json, png, SlackHarness, until } from './harness.js';

const CLIENT_ID = '1234567890.0987654321';
const CLIENT_SECRET = 'client-secret-not-real-5f2b';

const beta: FakeSlackWorkspace = {
  teamId: 'T0002',
  teamName: 'Beta Corp',
  botToken: 'xoxb-2222-installed-bot-token',
  botUserId: 'U2BOT',
  botId: 'B2BOT',
  appId: 'A0IQSP',
  users: [
    { id: 'U2DANA', name: 'dana', realName: 'Dana Doe', isAdmin: true },
    { id: 'U2EVE', name: 'eve' },
  ],
};

describe('multi-workspace install', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await SlackHarness.start({ env: { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET } });
    h.fake.oauthClient = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
  });
  afterAll(async () => {
    await h?.close();
  });

  async function install(code: string): Promise<Response> {
    const start = await fetch(`${h.url}/slack/install`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://slack.com/oauth/v2/authorize');
    expect(location.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(location.searchParams.get('redirect_uri')).toBe(`${h.url}/slack/oauth_redirect`);
    expect(location.searchParams.get('scope')!.split(',')).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'reactions:read', 'files:read', 'users:read']),
    );
    const state = location.searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^slack-app-oauth-state=[^;]+; Secure; HttpOnly; Path=\/; Max-Age=600/);
    h.fake.expectInstall(code, beta, 'U2DANA');
    // The cookie is Secure; a browser sends it back to the callback.
    return fetch(`${h.url}/slack/oauth_redirect?code=${code}&state=${encodeURIComponent(state)}`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
  }

  async function installationRows() {
    const installations = await h.db.selectFrom('slack_installations').selectAll().execute();
    const secrets = await h.db
      .selectFrom('secrets')
      .select(['slack_installation_id', 'name', 'sealed'])
      .where('slack_installation_id', 'is not', null)
      .execute();
    return { installations, secrets };
  }

  it('stores a sealed installation and then speaks in that workspace with its token', async () => {
    const page = await install('install-code-1');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('IQSP was added to Beta Corp.');
    const access = h.calls('oauth.v2.access')[0]!;
    expect(access.args).toMatchObject({ code: 'install-code-1', client_id: CLIENT_ID, redirect_uri: `${h.url}/slack/oauth_redirect` });
    expect(h.calls('auth.test').at(-1)?.token).toBe(beta.botToken);

    const { installations, secrets } = await installationRows();
    expect(installations).toEqual([
      expect.objectContaining({ team_id: 'T0002', enterprise_id: null, is_enterprise_install: 0, bot_user_id: 'U2BOT' }),
    ]);
    expect(secrets).toEqual([expect.objectContaining({ slack_installation_id: installations[0]!.id, name: 'installation' })]);
    expect(secrets[0]!.sealed).not.toContain(beta.botToken);
    // SQLite: the bytes of its files; PostgreSQL: every row of every table, as a dump shows.
    if (onPostgres) expect(await everyRowAsText(h.db)).not.toContain(beta.botToken);
    else
      for (const file of ['iqsp.sqlite', 'iqsp.sqlite-wal']) {
        const bytes = readFileSync(path.join(h.dir, file));
        expect(bytes.includes(Buffer.from(beta.botToken))).toBe(false);
      }
    const workspace = await h.db.selectFrom('workspaces').select(['external_id', 'name']).executeTakeFirstOrThrow();
    expect(workspace).toEqual({ external_id: 'T0002', name: 'Beta Corp' });

    const responseUrl = h.fake.responseUrl();
    await h.send(
      commandRequest('slash-command', {
        team_id: 'T0002',
        team_domain: 'beta',
        user_id: 'U2DANA',
        user_name: 'dana',
        text: 'approvals 2',
        response_url: responseUrl,
      }),
    );
    await h.surface.settled();
    expect((await h.replyTo(responseUrl)).text).toBe('Posts in this workspace now need 2 approval(s).');
    expect(h.calls('users.info').at(-1)).toMatchObject({ token: beta.botToken, args: { user: 'U2DANA' } });
  });

  it("refuses a callback with a state that is not this browser's, and stores nothing", async () => {
    h.fake.expectInstall('install-code-x', { ...beta, teamId: 'T0009' });
    const page = await fetch(`${h.url}/slack/oauth_redirect?code=install-code-x&state=forged`, {
      headers: { cookie: 'slack-app-oauth-state=other' },
    });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('This install link expired or was opened in another browser.');
    const { installations } = await installationRows();
    expect(installations.map((i) => i.team_id)).toEqual(['T0002']);
  });

  it('a workspace without an installation gets no answer', async () => {
    const responseUrl = h.fake.responseUrl();
    const response = await h.send(commandRequest('slash-command', { team_id: 'T0404', text: 'help', response_url: responseUrl }));
    await h.surface.settled();
    expect(response.status).toBe(200);
    expect(h.fake.responses.find((r) => responseUrl.endsWith(r.id))).toBeUndefined();
  });

  it('app_uninstalled deletes the installation and its sealed secret', async () => {
    const response = await h.event('event-app-uninstalled');
    expect(response.status).toBe(200);
    const { installations, secrets } = await installationRows();
    expect(installations).toEqual([]);
    expect(secrets).toEqual([]);
    const responseUrl = h.fake.responseUrl();
    await h.send(commandRequest('slash-command', { team_id: 'T0002', user_id: 'U2DANA', text: 'help', response_url: responseUrl }));
    await h.surface.settled();
    expect(h.fake.responses.find((r) => responseUrl.endsWith(r.id))).toBeUndefined();
  });

  it('tokens_revoked (the bot token) deletes a reinstalled installation too', async () => {
    expect((await install('install-code-2')).status).toBe(200);
    expect((await installationRows()).installations).toHaveLength(1);
    await h.event('event-tokens-revoked');
    expect(await installationRows()).toEqual({ installations: [], secrets: [] });
  });
});

describe('Socket Mode', () => {
  const APP_TOKEN = 'xapp-1-A0IQSP-1234567890-abcdef0123456789';
  let h: SlackHarness;

  beforeAll(async () => {
    h = await SlackHarness.start({ env: { SLACK_APP_TOKEN: APP_TOKEN }, prepare: (fake) => (fake.appToken = APP_TOKEN) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('connects with the app token through SLACK_API_URL and serves commands and events over the socket', async () => {
    expect(h.calls('apps.connections.open')[0]?.token).toBe(APP_TOKEN);
    const responseUrl = h.fake.responseUrl();
    const ack = await h.fake.sendEnvelope('slash_commands', fixture('slash-command', { text: 'help', response_url: responseUrl }));
    expect(ack).toEqual({});
    expect((await h.replyTo(responseUrl)).text).toContain('IQSP commands');

    await h.fake.sendEnvelope(
      'events_api',
      fixture('event-app-mention', { event_id: 'Ev0SOCKET01', event: { text: '<@U0BOT> connect x' } }),
    );
    const reply = await h.fake.waitForCall('chat.postEphemeral', (c) => String(c.args.text).startsWith('Connect X:'));
    expect(reply.args.user).toBe('U0ALICE');
  });

  it('keeps serving signed HTTP requests too', async () => {
    const response = await h.send(eventRequest('event-url-verification'));
    expect(await response.json()).toMatchObject({ challenge: expect.any(String) });
  });
});

describe('Socket Mode without a signing secret', () => {
  const APP_TOKEN = 'xapp-1-A0IQSP-1234567890-fedcba9876543210';
  let h: SlackHarness;

  beforeAll(async () => {
    h = await SlackHarness.start({
      env: { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' },
      prepare: (fake) => (fake.appToken = APP_TOKEN),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves commands over the socket, and refuses every HTTP request (nothing can verify it)', async () => {
    const responseUrl = h.fake.responseUrl();
    expect(
      await h.fake.sendEnvelope(
        'slash_commands',
        fixture('slash-command', { text: 'help', response_url: responseUrl }) as Record<string, unknown>,
      ),
    ).toEqual({});
    expect((await h.replyTo(responseUrl)).text).toContain('IQSP commands');
    const response = await h.send(eventRequest('event-url-verification'));
    expect(response.status).toBe(401);
  });
});

describe('a modal submission that outlasts the ack budget', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await SlackHarness.start({ surface: { viewAckBudgetMs: 0 } });
    await h.seedAccounts();
  });
  afterAll(async () => {
    await h?.close();
  });

  function submission(caption: string, files: Array<Record<string, unknown>>) {
    return {
      view: {
        state: {
          values: {
            caption: { caption: { type: 'plain_text_input', value: caption } },
            targets: {
              targets: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'X @acme' }, value: 'acct-x' }] },
            },
            media: { media: { type: 'file_input', files } },
          },
        },
      },
    };
  }

  it('acknowledges with a "checking" view, then shows the outcome in the modal', async () => {
    const file = h.fake.addFile('T0001', 'big.png', 'image/png', await png(640, 480));
    const response = await h.interactive('view-submission-post', submission('Late but fine', [file]));
    const ack = (await response.json()) as { response_action: string; view: { blocks: Array<{ text: { text: string } }> } };
    expect(ack.response_action).toBe('update');
    expect(ack.view.blocks[0]!.text.text).toMatch(/Checking your files/);
    const update = await h.fake.waitForCall('views.update', (c) => String(c.args.view).includes('is waiting for approval'));
    expect(update.args.view_id).toBe('V00000001');
    expect(json<{ blocks: Array<{ text: { text: string } }> }>(update.args.view).blocks[0]!.text.text).toMatch(
      /^Post \w{7} is waiting for approval in <#C0GENERAL>\.$/,
    );
    await until(() => h.calls('chat.postMessage').some((c) => c.args.channel === 'C0GENERAL'), 'the approval message');
  });

  it('shows the problems in the form again, with what was typed', async () => {
    const before = h.calls('views.update').length;
    await h.interactive('view-submission-post', submission('y'.repeat(290), []));
    const update = await until(() => h.calls('views.update')[before], 'views.update');
    const view = json<{
      callback_id: string;
      blocks: Array<{ block_id: string; text?: { text: string }; element?: { initial_value?: string } }>;
    }>(update.args.view);
    expect(view.callback_id).toBe('iqsp_post');
    expect(view.blocks[0]).toMatchObject({ block_id: 'notice' });
    expect(view.blocks[0]!.text!.text).toContain('X @acme: X allows 280 characters; this caption counts 290');
    expect(view.blocks.find((b) => b.block_id === 'caption')!.element!.initial_value).toBe('y'.repeat(290));
  });
});
