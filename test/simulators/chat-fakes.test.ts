/**
 * The fake Slack and the fake Discord as the network and the platforms misbehave: each fault
 * kind (status, hang, reset, slow) in the platform's own wire shape, seen with plain fetch;
 * then the real clients against them — the app's Slack surface (@slack/web-api with its
 * retries) and discord.js REST as IQSP creates it wait out a 429 and succeed. And the fake
 * Slack's `oauth.v2.access` checks what Slack checks, against @slack/oauth's InstallProvider.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InstallProvider, LogLevel } from '@slack/oauth';
import { WebClient } from '@slack/web-api';
import { RESTEvents, Routes, type RateLimitData } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordClient } from '../../src/bots/discord/client.js';
import { SlackHarness } from '../bots/slack/harness.js';
import { startDiscordSimulator, type DiscordSimulator } from './discord/index.js';
import { defaultWorkspace, FakeSlack, webApiMethod, type FakeSlackWorkspace } from './slack.js';

const CLIENT_ID = '1234567890.0987654321';
const CLIENT_SECRET = 'client-secret-not-real-7c1d';

const beta: FakeSlackWorkspace = {
  ...defaultWorkspace(),
  teamId: 'T0002',
  teamName: 'Beta Corp',
  botToken: 'xoxb-2222-installed-bot-token',
  botUserId: 'U2BOT',
  botId: 'B2BOT',
};

/** A request that must not be answered within `ms`: it rejects with the timeout. */
const within = (ms: number) => ({ signal: AbortSignal.timeout(ms) });

describe('fake Slack faults', () => {
  let slack: FakeSlack;

  beforeAll(async () => {
    slack = await FakeSlack.start();
  });
  afterEach(() => {
    slack.faults.length = 0;
  });
  afterAll(async () => {
    await slack?.close();
  });

  function call(method: string, args: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
    return fetch(`${slack.apiUrl}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${slack.workspace.botToken}` },
      body: new URLSearchParams(args),
      ...init,
    });
  }

  it('429: ratelimited with Retry-After in seconds, once, for the matching method only', async () => {
    slack.faults.push({ match: webApiMethod('chat.postMessage'), kind: 'status', status: 429 });
    expect((await call('auth.test')).status).toBe(200);

    const limited = await call('chat.postMessage', { channel: 'C0GENERAL', text: 'hello' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });

    const retried = await call('chat.postMessage', { channel: 'C0GENERAL', text: 'hello' });
    expect(await retried.json()).toMatchObject({ ok: true, channel: 'C0GENERAL' });
    // The limited call never reached the method: one message, and the request log tells them apart.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage').map((r) => [r.status, r.fault])).toEqual([
      [429, 'status'],
      [200, undefined],
    ]);
  });

  it('429 with a longer Retry-After, for `times` requests', async () => {
    slack.faults.push({ match: webApiMethod('users.info'), kind: 'status', status: 429, headers: { 'Retry-After': '30' }, times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const limited = await call('users.info', { user: 'U0ALICE' });
      expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '30']);
    }
    expect((await call('users.info', { user: 'U0ALICE' })).status).toBe(200);
    expect(slack.faults).toEqual([]);
  });

  it("5xx: an HTML page from the edge, not the Web API's JSON", async () => {
    slack.faults.push({ match: webApiMethod('auth.test'), kind: 'status', status: 503 });
    const answer = await call('auth.test');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await answer.text()).toContain('<title>503 Service Unavailable</title>');
  });

  it('hang: no answer; with `process` the message is posted all the same', async () => {
    const checks = slack.callsTo('auth.test').length;
    slack.faults.push({ match: webApiMethod('auth.test'), kind: 'hang' });
    await expect(call('auth.test', {}, within(300))).rejects.toThrow(/timeout|aborted/i);
    expect(slack.callsTo('auth.test')).toHaveLength(checks);

    const posted = slack.callsTo('chat.postMessage').length;
    slack.faults.push({ match: webApiMethod('chat.postMessage'), kind: 'hang', process: true });
    await expect(call('chat.postMessage', { channel: 'C0GENERAL', text: 'lost answer' }, within(300))).rejects.toThrow(/timeout|aborted/i);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(posted + 1);
    const hung = slack.requests.at(-1);
    expect([hung?.path, hung?.fault, hung?.status]).toEqual(['/api/chat.postMessage', 'hang', undefined]);
  });

  it('reset: the connection is dropped without an answer', async () => {
    slack.faults.push({ match: webApiMethod('auth.test'), kind: 'reset' });
    await expect(call('auth.test')).rejects.toThrow('fetch failed');
    const reset = slack.requests.at(-1);
    expect([reset?.path, reset?.fault, reset?.status]).toEqual(['/api/auth.test', 'reset', undefined]);
  });

  it('slow: the normal answer, late; faults also reach file downloads', async () => {
    slack.faults.push({ match: webApiMethod('auth.test'), kind: 'slow', ms: 250 });
    const started = Date.now();
    const answer = await call('auth.test');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(await answer.json()).toMatchObject({ ok: true, team_id: 'T0001' });

    const file = slack.addFile('T0001', 'a.png', 'image/png', Buffer.from('png bytes'));
    slack.faults.push({ match: (method, path) => method === 'GET' && path.startsWith('/files-pri/'), kind: 'status', status: 500 });
    const download = await fetch(String(file.url_private), { headers: { authorization: `Bearer ${slack.workspace.botToken}` } });
    expect([download.status, download.headers.get('content-type')]).toEqual([500, 'text/html; charset=utf-8']);
  });
});

describe('fake Slack oauth.v2.access', () => {
  let slack: FakeSlack;
  let server: Server;
  let appUrl: string;
  let installer: InstallProvider;

  beforeAll(async () => {
    slack = await FakeSlack.start();
    slack.oauthClient = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The installer as src/bots/slack/index.ts builds it, against the fake's Web API.
    installer = new InstallProvider({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      stateSecret: 'state-secret-for-the-fake-slack-test',
      directInstall: true,
      installUrlOptions: { scopes: ['commands', 'chat:write'], redirectUri: `${appUrl}/slack/oauth_redirect` },
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    server.on('request', (req, res) => {
      if (req.url === '/slack/install') return void installer.handleInstallPath(req, res);
      void installer.handleCallback(req, res, {
        success: (installation, _options, _req, response) => response.writeHead(200).end(`installed ${installation.team?.id}`),
        failure: (error, _options, _req, response) => response.writeHead(400).end(`failed: ${error.message}`),
      });
    });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await slack?.close();
  });

  /** The Allow click on Slack's authorize page: the code is bound to the authorization's redirect_uri. */
  function codeFor(redirectUri: string): string {
    const authorize = `https://slack.com/oauth/v2/authorize?${new URLSearchParams({ client_id: CLIENT_ID, scope: 'commands', redirect_uri: redirectUri, state: 's' })}`;
    return new URL(slack.approveInstall(authorize, beta)).searchParams.get('code')!;
  }

  function access(
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ ok: boolean; error?: string; team?: { id: string } }> {
    return fetch(`${slack.apiUrl}oauth.v2.access`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    }).then((r) => r.json() as Promise<{ ok: boolean; error?: string }>);
  }

  it('the InstallProvider flow completes: install → authorize → callback with the code → oauth.v2.access', async () => {
    const start = await fetch(`${appUrl}/slack/install`, { redirect: 'manual' });
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const callback = slack.approveInstall(start.headers.get('location')!, beta, 'U2DANA');
    expect(callback.startsWith(`${appUrl}/slack/oauth_redirect?code=`)).toBe(true);

    const page = await fetch(callback, { headers: { cookie } });
    expect(await page.text()).toBe('installed T0002');
    expect(slack.callsTo('oauth.v2.access').at(-1)?.args).toMatchObject({
      client_id: CLIENT_ID,
      redirect_uri: `${appUrl}/slack/oauth_redirect`,
    });
  });

  it("refuses a redirect_uri other than the authorization's (bad_redirect_uri), through the real WebClient too", async () => {
    const redirectUri = `${appUrl}/slack/oauth_redirect`;
    const code = codeFor(redirectUri);
    const credentials = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code };
    expect(await access({ ...credentials, redirect_uri: 'https://attacker.example/slack/oauth_redirect' })).toEqual({
      ok: false,
      error: 'bad_redirect_uri',
    });
    expect(await access(credentials)).toEqual({ ok: false, error: 'bad_redirect_uri' });
    const client = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await expect(client.oauth.v2.access({ ...credentials, redirect_uri: `${redirectUri}/other` })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'bad_redirect_uri' },
    });

    // The refusals did not spend the code; the right redirect_uri gets the token, once.
    expect(await access({ ...credentials, redirect_uri: redirectUri })).toMatchObject({ ok: true, team: { id: 'T0002' } });
    expect(await access({ ...credentials, redirect_uri: redirectUri })).toEqual({ ok: false, error: 'invalid_code' });
  });

  it('checks the client: invalid_client_id, bad_client_secret; HTTP Basic credentials count as well', async () => {
    const redirect_uri = `${appUrl}/slack/oauth_redirect`;
    const code = codeFor(redirect_uri);
    expect(await access({ client_id: '999.999', client_secret: CLIENT_SECRET, code, redirect_uri })).toEqual({
      ok: false,
      error: 'invalid_client_id',
    });
    expect(await access({ client_id: CLIENT_ID, client_secret: 'not-the-secret', code, redirect_uri })).toEqual({
      ok: false,
      error: 'bad_client_secret',
    });
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
    expect(await access({ code, redirect_uri }, { authorization: basic })).toMatchObject({ ok: true, team: { id: 'T0002' } });
  });

  it('the authorize page refuses an unknown client_id, as Slack shows an error page', () => {
    expect(() =>
      slack.approveInstall(`https://slack.com/oauth/v2/authorize?client_id=1.2&redirect_uri=${encodeURIComponent(appUrl)}`, beta),
    ).toThrow(/invalid client_id/);
  });
});

describe('fake Discord faults', () => {
  let discord: DiscordSimulator;

  beforeAll(async () => {
    discord = await startDiscordSimulator();
  });
  afterEach(() => {
    discord.faults.length = 0;
  });
  afterAll(async () => {
    await discord?.close();
  });

  const messagesRoute = () => `/channels/${discord.world.channelId}/messages`;
  function rest(method: string, route: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
    return fetch(`${discord.apiUrl}/v10${route}`, {
      method,
      headers: { authorization: `Bot ${discord.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...init,
    });
  }

  it('429: retry_after in the body, Retry-After rounded up, and the bucket headers of a per-route limit', async () => {
    discord.faults.push({
      match: (method, path) => method === 'POST' && path === messagesRoute(),
      kind: 'status',
      status: 429,
      retryAfter: 0.25,
    });
    const before = Date.now() / 1000;
    const limited = await rest('POST', messagesRoute(), { content: 'hello' });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ message: 'You are being rate limited.', retry_after: 0.25, global: false });
    const header = (name: string) => limited.headers.get(name);
    expect(header('content-type')).toBe('application/json');
    expect(header('retry-after')).toBe('1');
    expect([
      header('x-ratelimit-limit'),
      header('x-ratelimit-remaining'),
      header('x-ratelimit-reset-after'),
      header('x-ratelimit-scope'),
    ]).toEqual(['5', '0', '0.250', 'user']);
    expect(Number(header('x-ratelimit-reset'))).toBeCloseTo(before + 0.25, 0);
    expect(header('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
    expect(header('x-ratelimit-global')).toBeNull();

    expect((await rest('POST', messagesRoute(), { content: 'hello' })).status).toBe(200);
    expect(discord.callsTo('POST', /\/messages$/)).toHaveLength(1);
    expect(discord.requests.filter((r) => r.path === messagesRoute()).map((r) => [r.status, r.fault])).toEqual([
      [429, 'status'],
      [200, undefined],
    ]);
  });

  it('429 of the global limit and of a shared resource, in their own shapes', async () => {
    discord.faults.push({ match: () => true, kind: 'status', status: 429, scope: 'global', retryAfter: 2.5 });
    const global = await rest('GET', '/users/@me');
    expect(await global.json()).toEqual({ message: 'You are being rate limited.', retry_after: 2.5, global: true });
    expect([
      global.headers.get('retry-after'),
      global.headers.get('x-ratelimit-global'),
      global.headers.get('x-ratelimit-scope'),
      global.headers.get('x-ratelimit-bucket'),
    ]).toEqual(['3', 'true', 'global', null]);

    discord.faults.push({ match: () => true, kind: 'status', status: 429, scope: 'shared' });
    const shared = await rest('GET', '/users/@me');
    expect(await shared.json()).toEqual({ message: 'The resource is being rate limited.', retry_after: 1, global: false });
    expect([shared.headers.get('x-ratelimit-scope'), shared.headers.get('x-ratelimit-remaining')]).toEqual(['shared', '4']);
  });

  it("5xx: the API's JSON for a 500, the edge's HTML page for a 502", async () => {
    discord.faults.push({ match: () => true, kind: 'status', status: 500 }, { match: () => true, kind: 'status', status: 502 });
    const internal = await rest('GET', '/users/@me');
    expect([internal.status, await internal.json()]).toEqual([500, { message: '500: Internal Server Error', code: 0 }]);
    const gateway = await rest('GET', '/users/@me');
    expect([gateway.status, gateway.headers.get('content-type')]).toEqual([502, 'text/html; charset=UTF-8']);
    expect(await gateway.text()).toContain('<title>502 Bad Gateway</title>');
  });

  it('hang (with `process`, the message exists), reset, slow', async () => {
    const messages = discord.botMessages(discord.world.channelId).length;
    discord.faults.push({ match: (method) => method === 'POST', kind: 'hang', process: true });
    await expect(rest('POST', messagesRoute(), { content: 'answer lost' }, within(300))).rejects.toThrow(/timeout|aborted/i);
    expect(discord.botMessages(discord.world.channelId)).toHaveLength(messages + 1);

    discord.faults.push({ match: () => true, kind: 'reset' });
    await expect(rest('GET', '/users/@me')).rejects.toThrow('fetch failed');
    const reset = discord.requests.at(-1);
    expect([reset?.path, reset?.fault, reset?.status]).toEqual(['/users/@me', 'reset', undefined]);

    discord.faults.push({ match: (_method, path) => path === '/users/@me', kind: 'slow', ms: 250 });
    const started = Date.now();
    const me = await rest('GET', '/users/@me');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(await me.json()).toMatchObject({ id: discord.world.bot.id });
  });
});

describe('the real clients wait out a 429', () => {
  it('the Slack surface (its WebClient retries) waits Retry-After, then answers once', async () => {
    // retries: 2 is the surface's default; the harness turns retries off unless told.
    const h = await SlackHarness.start({ surface: { retries: 2 } });
    try {
      h.fake.faults.push({ match: webApiMethod('chat.postEphemeral'), kind: 'status', status: 429 });
      const ts = '1700009000.000100';
      await h.event('event-app-mention', { event_id: 'Ev0RATELIMIT01', event: { text: '<@U0BOT> help', ts, event_ts: ts } });

      const attempts = h.fake.requests.filter((r) => r.path === '/api/chat.postEphemeral');
      expect(attempts.map((r) => r.status)).toEqual([429, 200]);
      expect(attempts[1]!.at.getTime() - attempts[0]!.at.getTime()).toBeGreaterThanOrEqual(1000);
      expect(h.calls('chat.postEphemeral')).toEqual([
        expect.objectContaining({ args: expect.objectContaining({ channel: 'C0GENERAL', user: 'U0ALICE' }) }),
      ]);
    } finally {
      await h.close();
    }
  }, 20_000);

  it('discord.js REST from createDiscordClient waits until the bucket resets, then sends the message once', async () => {
    const discord = await startDiscordSimulator();
    const client = createDiscordClient(discord.apiUrl);
    try {
      client.rest.setToken(discord.token);
      const limits: RateLimitData[] = [];
      client.rest.on(RESTEvents.RateLimited, (info) => limits.push(info));
      const route = Routes.channelMessages(discord.world.channelId);
      discord.faults.push({ match: (method, path) => method === 'POST' && path === route, kind: 'status', status: 429, retryAfter: 0.4 });

      const sent = (await client.rest.post(route, { body: { content: 'after the limit' } })) as { id: string; content: string };
      expect(sent.content).toBe('after the limit');
      expect(discord.botMessages(discord.world.channelId).map((m) => m.content)).toEqual(['after the limit']);
      const attempts = discord.requests.filter((r) => r.path === route);
      expect(attempts.map((r) => r.status)).toEqual([429, 200]);
      // The bucket is empty (X-RateLimit-Remaining: 0) until X-RateLimit-Reset-After, retry_after's 0.4 s.
      expect(attempts[1]!.at.getTime() - attempts[0]!.at.getTime()).toBeGreaterThanOrEqual(390);
      // It waited on the bucket it read from the headers: limit 5, reset after 0.4 s (not Retry-After's whole second).
      expect(limits).toEqual([expect.objectContaining({ global: false, method: 'POST', route: '/channels/:id/messages', limit: 5 })]);
      expect(limits[0]!.timeToReset).toBeGreaterThan(300);
      expect(limits[0]!.timeToReset).toBeLessThan(1000);
    } finally {
      await client.destroy();
      await discord.close();
    }
  }, 20_000);

  it('discord.js retries a 502 from the edge', async () => {
    const discord = await startDiscordSimulator();
    const client = createDiscordClient(discord.apiUrl);
    try {
      client.rest.setToken(discord.token);
      discord.faults.push({ match: () => true, kind: 'status', status: 502 });
      expect(await client.rest.get(Routes.user('@me'))).toMatchObject({ id: discord.world.bot.id });
      expect(discord.requests.map((r) => r.status)).toEqual([502, 200]);
    } finally {
      await client.destroy();
      await discord.close();
    }
  });
});

describe('reactions read back from a message', () => {
  it("fake Slack reactions.get: the message with its reactions (users cut short unless `full`), and Slack's errors", async () => {
    const slack = await FakeSlack.start();
    try {
      const client = new WebClient(slack.workspace.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      const posted = await client.chat.postMessage({ channel: 'C0GENERAL', text: 'Post ABC needs 1 approval' });
      for (const user of ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0ADMIN']) slack.addReaction('C0GENERAL', posted.ts!, user, 'white_check_mark');
      slack.addReaction('C0GENERAL', posted.ts!, 'U0BOB', 'x');

      const full = await client.reactions.get({ channel: 'C0GENERAL', timestamp: posted.ts!, full: true });
      expect(full).toMatchObject({
        ok: true,
        type: 'message',
        channel: 'C0GENERAL',
        message: {
          type: 'message',
          text: 'Post ABC needs 1 approval',
          user: 'U0BOT',
          bot_id: 'B0BOT',
          ts: posted.ts,
          team: 'T0001',
          reactions: [
            { name: 'white_check_mark', users: ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0ADMIN'], count: 4 },
            { name: 'x', users: ['U0BOB'], count: 1 },
          ],
        },
      });
      const short = await client.reactions.get({ channel: 'C0GENERAL', timestamp: posted.ts! });
      expect(short.message?.reactions?.[0]).toEqual({ name: 'white_check_mark', users: ['U0ALICE', 'U0BOB', 'U0CAROL'], count: 4 });

      slack.removeReaction('C0GENERAL', posted.ts!, 'U0BOB', 'x');
      expect((await client.reactions.get({ channel: 'C0GENERAL', timestamp: posted.ts!, full: true })).message?.reactions).toHaveLength(1);
      await expect(client.reactions.get({ channel: 'C0GENERAL', timestamp: '1.000001' })).rejects.toMatchObject({
        data: { ok: false, error: 'message_not_found' },
      });
      const bare = await fetch(`${slack.apiUrl}reactions.get`, {
        method: 'POST',
        headers: { authorization: `Bearer ${slack.workspace.botToken}` },
      });
      expect(await bare.json()).toEqual({ ok: false, error: 'no_item_specified' });
    } finally {
      await slack.close();
    }
  });

  it("fake Discord: GET a message shows each emoji's count and `me`; GET …/reactions/{emoji} pages the users by id (limit, after)", async () => {
    const discord = await startDiscordSimulator();
    const client = createDiscordClient(discord.apiUrl);
    try {
      client.rest.setToken(discord.token);
      const { channelId, people, bot } = discord.world;
      const message = (await client.rest.post(Routes.channelMessages(channelId), { body: { content: 'Post ABC' } })) as { id: string };
      await client.rest.put(Routes.channelMessageOwnReaction(channelId, message.id, encodeURIComponent('✅')));
      for (const person of [people.carol, people.alice, people.bob])
        discord.reactionAdd(person, message.id, '✅', channelId, { delivered: false });
      discord.reactionAdd(people.bob, message.id, '❌', channelId, { delivered: false });

      const fetched = (await client.rest.get(Routes.channelMessage(channelId, message.id))) as { reactions: unknown[] };
      expect(fetched.reactions).toEqual([
        { emoji: { id: null, name: '✅' }, count: 4, count_details: { burst: 0, normal: 4 }, me: true, me_burst: false, burst_colors: [] },
        { emoji: { id: null, name: '❌' }, count: 1, count_details: { burst: 0, normal: 1 }, me: false, me_burst: false, burst_colors: [] },
      ]);

      const ordered = [bot, people.carol, people.alice, people.bob].map((u) => u.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const route = Routes.channelMessageReaction(channelId, message.id, encodeURIComponent('✅'));
      const first = (await client.rest.get(route, { query: new URLSearchParams({ limit: '2' }) })) as Array<{ id: string }>;
      expect(first.map((u) => u.id)).toEqual(ordered.slice(0, 2));
      const rest = (await client.rest.get(route, { query: new URLSearchParams({ limit: '100', after: first[1]!.id }) })) as Array<{
        id: string;
        bot?: boolean;
      }>;
      expect(rest.map((u) => u.id)).toEqual(ordered.slice(2));
      expect(((await client.rest.get(route)) as unknown[]).length).toBe(4); // default limit 25
      expect(await client.rest.get(route, { query: new URLSearchParams({ type: '1' }) })).toEqual([]);
      await expect(client.rest.get(route, { query: new URLSearchParams({ limit: '101' }) })).rejects.toMatchObject({
        status: 400,
        code: 50035,
      });
      await expect(client.rest.get(Routes.channelMessage(channelId, '1234'))).rejects.toMatchObject({ status: 404, code: 10008 });
    } finally {
      await client.destroy();
      await discord.close();
    }
  });
});
