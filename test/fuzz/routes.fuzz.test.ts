/**
 * Issue 13, "Done when" (fuzz): generated and mutated payloads thrown at every route of the
 * built service (`node dist/cli.js serve`, a child process as an operator runs it) — Slack's
 * /slack/events signed and unsigned (slash commands, events, interactivity), Discord
 * interactions, messages and reactions through the fake gateway, /connect/:token,
 * /oauth/:platform/callback (unknown states and live ones), /media/:token, arbitrary paths —
 * and at the sandbox's APIs (a second child in sandbox mode). Every answer must be below 500;
 * neither process may die (Node ends a process on an unhandled rejection); both still answer
 * /healthz 200 at the end and the bots still answer a command.
 *
 * Seeded (fuzz-settings.ts): the same cases every run. `npm run fuzz` runs many more. To look
 * into a failure: IQSP_FUZZ_DUMP=<file> writes the service's log there, IQSP_FUZZ_LOG_LEVEL=debug
 * makes it say more (Bolt's error details).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iqspCommand } from '../../src/bots/discord/commands.js';
import type { Simulators } from '../../src/simulators/index.js';
import { DiscordDriver, textOf } from '../e2e/discord-driver.js';
import { connectLinkIn, followConnectLink, ONE_PAGE, squarePng, startFastSimulators } from '../e2e/platforms.js';
import { ServiceProcess } from '../e2e/service.js';
import { SlackDriver, SIGNING_SECRET } from '../e2e/slack-driver.js';
import { freePort, startCli, waitForOk, type RunningCli } from '../helpers/cli.js';
import { fixture, slackSignature } from '../simulators/slack.js';
import { commandText, fuzzParameters, fuzzRuns, mutated, withStringsReplaced, type Json, type PathFilter } from './fuzz-settings.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const PLATFORM_NAMES = ['x', 'facebook', 'instagram', 'tiktok', 'linkedin', 'youtube', 'threads', 'bluesky'];

/** Every answer, by route, and the ones at 500 or above with what was sent. */
class Tally {
  readonly byRoute = new Map<string, { requests: number; statuses: Map<number, number> }>();
  readonly serverErrors: Array<{ route: string; status: number; sent: string }> = [];

  record(route: string, status: number, sent: () => string): number {
    const entry = this.byRoute.get(route) ?? { requests: 0, statuses: new Map<number, number>() };
    this.byRoute.set(route, entry);
    entry.requests += 1;
    entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
    if (status >= 500) this.serverErrors.push({ route, status, sent: sent().slice(0, 2_000) });
    return status;
  }

  summary(): string {
    const lines = [...this.byRoute].map(
      ([route, { requests, statuses }]) =>
        `  ${route}: ${requests} (${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')})`,
    );
    const total = [...this.byRoute.values()].reduce((sum, r) => sum + r.requests, 0);
    const samples = this.serverErrors.slice(0, 5).map((e) => `  ${e.status} ${e.route} ← ${e.sent}`);
    return [
      `fuzz: ${total} requests/events over ${this.byRoute.size} routes, ${this.serverErrors.length} answered 5xx`,
      ...lines,
      ...(samples.length ? ['first 5xx:', ...samples] : []),
    ].join('\n');
  }
}

const tally = new Tally();
let sims: Simulators;
let slack: SlackDriver;
let discord: DiscordDriver;
let service: ServiceProcess;
let sandbox: RunningCli;
let sandboxDir = '';
let sandboxBase = '';
/** A real connect token and media token, for mutations of a valid one. */
let realConnectToken = '';
let realMediaToken = '';
let approvalMessageId = '';

/** A client's address as a proxy reports it: the service trusts X-Forwarded-For here, so rate limits count per fuzzed client. */
const forwardedFor = fc.oneof(
  { weight: 4, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')) },
);

/** Headers as a client sends them: printable ASCII only (fetch refuses anything else before it is sent). */
const headerText = fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

/** A path segment from text: encoded, as a browser would put it in a URL. */
const segment = (text: fc.Arbitrary<string>) => text.map((s) => encodeURIComponent(s));

/** A variant of a real token: cut, extended, one character changed, or doubled. */
function mutatedToken(real: () => string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat(), fc.constantFrom('cut', 'extend', 'flip', 'double', 'same'), fc.string({ minLength: 1, maxLength: 4 }))
    .map(([at, how, text]) => {
      const token = real();
      const i = token.length === 0 ? 0 : at % token.length;
      if (how === 'cut') return token.slice(0, i);
      if (how === 'extend') return token + text;
      if (how === 'flip') return token.slice(0, i) + text + token.slice(i + 1);
      if (how === 'double') return token + token;
      return token;
    });
}

async function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init });
}

/** Keys whose values the service fetches or answers to: never mutated, so nothing leaves this machine. */
const keepUrls: PathFilter = (path) => path.every((key) => typeof key === 'number' || !/url|permalink/i.test(key));

/**
 * What a Discord user can put in an interaction: the text of the command's data (options,
 * custom ids) and their own names. Discord itself writes the rest (ids, permission bit fields,
 * types, the payload's shape) and validates option types before delivering over its
 * authenticated gateway: discord.js 14 throws from its gateway handler, ending the process, on
 * a shape Discord never sends (`data.options` not an array, a permission field that is no bit
 * field), so only string values are replaced here, by any text.
 */
const userControlled: PathFilter = (path) =>
  keepUrls(path) &&
  (path[0] === 'data' ||
    path[0] === 'locale' ||
    (path[0] === 'member' && (path[1] === 'nick' || (path[1] === 'user' && ['username', 'global_name'].includes(String(path[2]))))));

type OptionJson = {
  name: string;
  type: number;
  required?: boolean;
  choices?: Array<{ value: string | number }>;
  min_length?: number;
  max_length?: number;
  min_value?: number;
  max_value?: number;
};

/** Option values as Discord delivers them for one registered option: its type, choices and bounds. */
function optionValue(option: OptionJson): fc.Arbitrary<string | number | boolean> | undefined {
  if (option.choices?.length) return fc.constantFrom(...option.choices.map((c) => c.value));
  if (option.type === ApplicationCommandOptionType.Boolean) return fc.boolean();
  if (option.type === ApplicationCommandOptionType.Integer)
    return fc.integer({ min: option.min_value ?? -(2 ** 53 - 1), max: option.max_value ?? 2 ** 53 - 1 });
  if (option.type !== ApplicationCommandOptionType.String) return undefined;
  const bounds = { minLength: option.min_length ?? 0, maxLength: option.max_length ?? 6000 };
  return fc
    .oneof(commandText, fc.string({ unit: 'grapheme', maxLength: 60 }))
    .filter((text) => text.length >= bounds.minLength && text.length <= bounds.maxLength && text.trim() !== '');
}

/** A sub-command of `/iqsp` and options as Discord would deliver them: required ones always, others sometimes. */
const discordCommand = fc
  .constantFrom(...(iqspCommand().toJSON().options as unknown as Array<{ name: string; options?: OptionJson[] }>))
  .chain((sub) => {
    const options = (sub.options ?? []).flatMap((o) => {
      const value = optionValue(o);
      return value ? [{ o, value }] : [];
    });
    return fc.tuple(...options.map(({ o, value }) => (o.required ? value : fc.option(value, { nil: undefined })))).map((values) => ({
      sub: sub.name,
      options: Object.fromEntries(options.flatMap(({ o }, i) => (values[i] === undefined ? [] : [[o.name, values[i]]]))),
    }));
  });

beforeAll(async () => {
  [sims, slack, discord] = await Promise.all([startFastSimulators(), SlackDriver.start(), DiscordDriver.start()]);
  service = await ServiceProcess.start(
    { ...sims.env, ...slack.env(), ...discord.env() },
    { TRUST_PROXY: 'true', ...(process.env.IQSP_FUZZ_LOG_LEVEL ? { LOG_LEVEL: process.env.IQSP_FUZZ_LOG_LEVEL } : {}) },
  );
  slack.appUrl = service.url;

  sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-fuzz-sandbox-'));
  const port = await freePort();
  sandboxBase = `http://127.0.0.1:${port}`;
  sandbox = startCli(['serve'], {
    cwd: sandboxDir,
    env: { PORT: String(port), PUBLIC_URL: sandboxBase, IQSP_SANDBOX: 'on', LOG_LEVEL: 'warn' },
  });
  await waitForOk(`${sandboxBase}/healthz`, 30_000);

  // Something real to mutate: a connected account, a post with an image (a media token), its
  // approval message (Discord buttons and reactions point at it), and a connect link.
  const connected = await followConnectLink(sims, connectLinkIn(await slack.command(ALICE, 'connect facebook')), ONE_PAGE);
  expect(connected.status).toBe(200);
  const before = slack.approvals().length;
  await slack.mention(ALICE, 'post facebook Fuzz seed', [{ name: 'seed.png', mimetype: 'image/png', bytes: await squarePng(64) }]);
  const approval = await slack.nextApproval(before);
  realMediaToken = /\/media\/([^/?#]+)/.exec(approval.imageUrl ?? '')?.[1] ?? '';
  expect(realMediaToken).not.toBe('');
  realConnectToken = /\/connect\/([A-Za-z0-9_-]+)/.exec(connectLinkIn(await slack.command(BOB, 'connect x')))![1]!;
  expect((await discord.command(discord.people.alice, 'help')).text).not.toBe('');
  // A message in the server's channel for buttons and reactions to point at.
  approvalMessageId = discord.mention(discord.people.alice, 'status ABCDEFG').id;
}, 90_000);

afterAll(async () => {
  // The figures of this run, for the issue's closing note and for `npm run fuzz`.
  console.log(tally.summary());
  if (process.env.IQSP_FUZZ_DUMP) (await import('node:fs')).writeFileSync(process.env.IQSP_FUZZ_DUMP, service?.output() ?? '');
  await service?.close();
  if (sandbox && sandbox.child.exitCode === null) {
    sandbox.child.kill('SIGTERM');
    await sandbox.exited;
  }
  if (sandboxDir) rmSync(sandboxDir, { recursive: true, force: true });
  await Promise.all([sims?.close(), slack?.close(), discord?.close()]);
}, 30_000);

/** Each property's time grows with its runs (the default suite's stay far below it). */
const TIMEOUT_MS = 60_000 + fuzzRuns() * 1_000;

describe('every route under fuzz answers below 500 and the service keeps serving', { timeout: TIMEOUT_MS }, () => {
  it('/slack/events unsigned, badly signed or stale: 401, whatever the body', async () => {
    const body = fc.oneof(
      commandText.map((text) => `text=${encodeURIComponent(text)}&command=%2Fiqsp`),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 500 }),
    );
    const signing = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('garbage' as const), signature: headerText, timestamp: headerText }),
      fc.record({ kind: fc.constant('wrong-secret' as const), secret: fc.string({ minLength: 1, maxLength: 40 }) }),
      fc.record({ kind: fc.constant('stale' as const), ageSeconds: fc.integer({ min: 301, max: 10_000_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        signing,
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
        async (raw, how, type) => {
          const now = Math.floor(Date.now() / 1000);
          const headers: Record<string, string> = { 'content-type': type };
          if (how.kind === 'garbage')
            Object.assign(headers, { 'x-slack-signature': how.signature, 'x-slack-request-timestamp': how.timestamp });
          if (how.kind === 'wrong-secret')
            Object.assign(headers, { 'x-slack-signature': slackSignature(how.secret, now, raw), 'x-slack-request-timestamp': String(now) });
          if (how.kind === 'stale')
            Object.assign(headers, {
              'x-slack-signature': slackSignature(SIGNING_SECRET, now - how.ageSeconds, raw),
              'x-slack-request-timestamp': String(now - how.ageSeconds),
            });
          const response = await fetch(`${service.url}/slack/events`, { method: 'POST', headers, body: raw });
          await response.arrayBuffer();
          tally.record('POST /slack/events (unsigned)', response.status, () => JSON.stringify({ headers, raw }));
          expect(response.status).toBe(401);
        },
      ),
      fuzzParameters(1),
    );
  });

  it('/connect/:token: random, mutated and real tokens, with random cookies and clients', async () => {
    const token = fc.oneof(
      segment(fc.string({ maxLength: 80 })),
      segment(fc.string({ unit: 'binary', maxLength: 40 })),
      mutatedToken(() => realConnectToken),
      fc.base64String({ maxLength: 64 }),
    );
    await fc.assert(
      fc.asyncProperty(token, fc.option(headerText), forwardedFor, async (t, cookie, client) => {
        const headers: Record<string, string> = { 'x-forwarded-for': client };
        if (cookie !== null) headers.cookie = cookie;
        const response = await get(`${service.url}/connect/${t}`, { headers });
        await response.arrayBuffer();
        return tally.record('GET /connect/:token', response.status, () => JSON.stringify({ t, headers })) < 500;
      }),
      fuzzParameters(1),
    );
  });

  it('/oauth/:platform/callback: unknown states, random queries and cookies', async () => {
    const platform = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PLATFORM_NAMES) }, segment(fc.string({ maxLength: 20 })));
    const query = fc.dictionary(
      fc.oneof(
        fc.constantFrom('state', 'code', 'error', 'error_reason', 'error_description', 'scope', 'granted_scopes', 'iss'),
        fc.string({ maxLength: 10 }),
      ),
      fc.string({ maxLength: 60 }),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        platform,
        query,
        fc.option(fc.tuple(fc.constantFrom('iqsp-connect', '__Host-iqsp-connect', 'x'), headerText)),
        forwardedFor,
        async (p, q, cookie, client) => {
          const headers: Record<string, string> = { 'x-forwarded-for': client };
          if (cookie) headers.cookie = `${cookie[0]}=${cookie[1]}`;
          const url = `${service.url}/oauth/${p}/callback?${new URLSearchParams(q).toString()}`;
          const response = await get(url, { headers });
          await response.arrayBuffer();
          return tally.record('GET /oauth/:platform/callback', response.status, () => JSON.stringify({ url, headers })) < 500;
        },
      ),
      fuzzParameters(1),
    );
  });

  it('/oauth/:platform/callback with a live state and its browser cookie: random codes, errors and extra parameters', async () => {
    const answers = fc.record({
      // `real`: the code the platform's consent page gives (the sign-in then succeeds unless something else is off).
      code: fc.option(fc.oneof({ weight: 2, arbitrary: fc.constant('real') }, fc.string({ maxLength: 60 }), fc.constant(''))),
      error: fc.option(fc.oneof(fc.constantFrom('access_denied', 'server_error', 'invalid_scope'), fc.string({ maxLength: 20 }))),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
      platform: fc.constantFrom('x', 'tiktok', 'facebook', 'instagram'),
      cookie: fc.constantFrom('right', 'none', 'wrong'),
    });
    let person = 0;
    await fc.assert(
      fc.asyncProperty(answers, async (a) => {
        // A fresh person each time: connect links are per person, and commands are rate limited per person.
        person += 1;
        const user = `U0FUZZ${person}`;
        slack.fake.workspace.users.push({ ...slack.user(BOB), id: user, name: `fuzz${person}` });
        const link = connectLinkIn(await slack.command(user, `connect ${a.platform}`));
        // Each person from an address of their own, as people are: /connect and /oauth are rate limited per client.
        const client = `10.${Math.floor(person / 250) % 250}.${person % 250}.1`;
        const opened = await get(link, { headers: { 'x-forwarded-for': client } });
        const consent = new URL(opened.headers.get('location') ?? '');
        const setCookie = opened.headers.get('set-cookie') ?? '';
        const cookie = a.cookie === 'right' ? setCookie.split(';')[0]! : a.cookie === 'wrong' ? 'iqsp-connect=bm90LXRoZS1yaWdodC1vbmU' : '';
        const query = new URLSearchParams(a.extra);
        if (a.code === 'real') {
          const callback = new URL(
            await sims.followConsent(consent.toString(), a.platform === 'facebook' || a.platform === 'instagram' ? ONE_PAGE : undefined),
          );
          for (const [key, value] of callback.searchParams) query.set(key, value);
        } else if (a.code !== null) query.set('code', a.code);
        query.set('state', consent.searchParams.get('state') ?? '');
        if (a.error !== null) query.set('error', a.error);
        const url = `${service.url}/oauth/${a.platform}/callback?${query.toString()}`;
        const response = await get(url, { headers: cookie ? { cookie, 'x-forwarded-for': client } : { 'x-forwarded-for': client } });
        await response.arrayBuffer();
        return tally.record('GET /oauth/:platform/callback (live state)', response.status, () => JSON.stringify({ url, cookie })) < 500;
      }),
      fuzzParameters(0.25),
    );
  });

  it('/media/:token: random, mutated and real tokens, GET and HEAD, random Range headers', async () => {
    const token = fc.oneof(
      segment(fc.string({ maxLength: 80 })),
      mutatedToken(() => realMediaToken),
      fc.constant(realMediaToken),
    );
    const range = fc.option(
      fc.oneof(
        headerText,
        fc
          .tuple(fc.integer({ min: -5, max: 100_000 }), fc.option(fc.integer({ min: -5, max: 100_000 })))
          .map(([a, b]) => `bytes=${a}-${b ?? ''}`),
        fc.constantFrom('bytes=-', 'bytes=0-0,5-9', 'bytes=-0', 'items=0-1', 'bytes=99999999999999999999-'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(token, range, fc.constantFrom('GET', 'HEAD'), forwardedFor, async (t, r, method, client) => {
        const headers: Record<string, string> = { 'x-forwarded-for': client };
        if (r !== null) headers.range = r;
        const response = await get(`${service.url}/media/${t}`, { method, headers });
        await response.arrayBuffer();
        return tally.record(`${method} /media/:token`, response.status, () => JSON.stringify({ t, headers })) < 500;
      }),
      fuzzParameters(1),
    );
  });

  it('arbitrary methods, paths and bodies at the service', async () => {
    const route = fc.oneof(
      fc.constantFrom(
        '/',
        '/healthz',
        '/readyz',
        '/metrics',
        '/privacy',
        '/terms',
        '/slack/install',
        '/slack/oauth_redirect',
        '/oauth/facebook/data-deletion',
        '/oauth/facebook/deauthorize',
        '/data-deletion/x',
        '/oauth/bluesky/client-metadata.json',
        '/sandbox',
        '/sandbox/api/state',
      ),
      fc.webPath(),
      fc.string({ maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const query = fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        route,
        query,
        fc.string({ maxLength: 300 }),
        forwardedFor,
        async (method, p, q, body, client) => {
          const url = `${service.url}${p.startsWith('/') ? p : `/${p}`}?${new URLSearchParams(q).toString()}`;
          const init: RequestInit = { method, headers: { 'x-forwarded-for': client, 'content-type': 'application/x-www-form-urlencoded' } };
          if (method !== 'GET' && method !== 'HEAD') init.body = body;
          const response = await get(url, init);
          await response.arrayBuffer();
          return tally.record('* (any path)', response.status, () => JSON.stringify({ method, url, body })) < 500;
        },
      ),
      fuzzParameters(1),
    );
  });

  it('/sandbox APIs: random commands, people, files, reactions and buttons, same-origin or not', async () => {
    const person = fc.oneof(fc.constantFrom('ada', 'bob', 'cy', 'U_ADA', 'U_BOB'), fc.string({ maxLength: 12 }));
    const origin = fc.constantFrom<string | null>(sandboxBase, null, 'https://evil.example', 'null');
    const request = fc.oneof(
      fc.record({
        kind: fc.constant('command' as const),
        user: person,
        text: commandText,
        files: fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 2 }),
      }),
      fc.record({
        kind: fc.constant('react' as const),
        body: mutated({ user: 'bob', messageId: 'm1', emoji: 'white_check_mark', remove: false }),
      }),
      fc.record({ kind: fc.constant('button' as const), body: mutated({ user: 'bob', actionId: 'approve_post', value: 'ABCDEFG' }) }),
      fc.record({
        kind: fc.constant('raw' as const),
        route: fc.constantFrom('/sandbox/api/command', '/sandbox/api/react', '/sandbox/api/button'),
        type: fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'multipart/form-data', 'text/plain'),
        body: fc.string({ maxLength: 400 }),
      }),
      fc.record({ kind: fc.constant('state' as const), user: person }),
      fc.record({ kind: fc.constant('file' as const), id: segment(fc.string({ maxLength: 40 })) }),
    );
    await fc.assert(
      fc.asyncProperty(request, origin, async (r, o) => {
        const headers: Record<string, string> = o === null ? {} : { origin: o };
        let response: Response;
        let route: string;
        if (r.kind === 'command') {
          const form = new FormData();
          form.set('user', r.user);
          form.set('text', r.text);
          for (const [name, bytes] of r.files) form.append('file', new Blob([bytes]), name || 'f');
          route = 'POST /sandbox/api/command';
          response = await fetch(`${sandboxBase}/sandbox/api/command`, { method: 'POST', headers, body: form });
        } else if (r.kind === 'react' || r.kind === 'button') {
          route = `POST /sandbox/api/${r.kind}`;
          response = await fetch(`${sandboxBase}/sandbox/api/${r.kind}`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(r.body),
          });
        } else if (r.kind === 'raw') {
          route = `POST ${r.route} (raw)`;
          response = await fetch(`${sandboxBase}${r.route}`, {
            method: 'POST',
            headers: { ...headers, 'content-type': r.type },
            body: r.body,
          });
        } else if (r.kind === 'state') {
          route = 'GET /sandbox/api/state';
          response = await fetch(`${sandboxBase}/sandbox/api/state?user=${encodeURIComponent(r.user)}`, { headers });
        } else {
          route = 'GET /sandbox/files/:id';
          response = await fetch(`${sandboxBase}/sandbox/files/${r.id}`, { headers });
        }
        await response.arrayBuffer();
        return (
          tally.record(route, response.status, () =>
            JSON.stringify({ r, origin: o }, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)),
          ) < 500
        );
      }),
      fuzzParameters(1),
    );
  });

  it('Discord: random options on every sub-command are each answered; mutated interactions, messages, buttons and reactions do not stop the bot', async () => {
    const sim = discord.sim;
    const people = [discord.people.alice, discord.people.bob, discord.people.carol];

    // A well-formed interaction to mutate, captured instead of sent.
    const gateway = sim.gateway as unknown as { dispatch(event: string, data: unknown): number };
    const send = gateway.dispatch.bind(gateway);
    let template: Json = null;
    gateway.dispatch = (_event, data) => ((template = data as Json), 1);
    sim.commandInteraction(discord.people.bob, 'status', { post_id: 'ABCDEFG' });
    gateway.dispatch = send;
    expect(template).not.toBeNull();

    const event = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('command' as const), who: fc.nat({ max: 2 }), command: discordCommand }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('interaction' as const), body: withStringsReplaced(template, userControlled) }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('message' as const), who: fc.nat({ max: 2 }), text: commandText }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('button' as const),
          who: fc.nat({ max: 2 }),
          customId: fc.oneof(
            fc.string({ maxLength: 100 }),
            fc.constantFrom('approve_post:ABCDEFG', 'reject_post:', 'delete_my_data_confirm', 'approve_post:' + 'A'.repeat(90)),
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('reaction' as const),
          who: fc.nat({ max: 2 }),
          emoji: fc.oneof(fc.constantFrom('✅', '❌', '👍'), fc.string({ maxLength: 8 })),
          onApproval: fc.boolean(),
        }),
      },
    );
    const unanswered: string[] = [];
    await fc.assert(
      fc.asyncProperty(event, async (e) => {
        if (e.kind === 'command') {
          const record = sim.commandInteraction(people[e.who]!, e.command.sub, e.command.options);
          try {
            await sim.answered(record);
            tally.record('Discord /iqsp interaction', 200, () => '');
          } catch {
            unanswered.push(JSON.stringify(e));
            tally.record('Discord /iqsp interaction', 500, () => `unanswered: ${JSON.stringify(e)}`);
          }
          return;
        }
        if (e.kind === 'interaction') send('INTERACTION_CREATE', e.body);
        if (e.kind === 'message') sim.userMessage(people[e.who]!, `<@${sim.world.bot.id}> ${e.text}`);
        if (e.kind === 'button' && approvalMessageId) sim.buttonClick(people[e.who]!, approvalMessageId, e.customId);
        if (e.kind === 'reaction')
          sim.reactionAdd(people[e.who]!, e.onApproval && approvalMessageId ? approvalMessageId : '1234567890123456789', e.emoji);
        tally.record(`Discord ${e.kind} (gateway)`, 200, () => '');
      }),
      fuzzParameters(0.5),
    );
    expect(unanswered).toEqual([]);
    // The bot is still there: a plain command is answered.
    const help = await discord.command(discord.people.carol, 'help');
    expect(textOf(help.record.original!)).toMatch(/connect/);
  });

  it('/slack/events signed: slash commands, events and interactivity with generated and mutated payloads', async () => {
    const responseUrl = slack.fake.responseUrl();
    const eventFixtures = [
      'event-app-mention',
      'event-message',
      'event-reaction-added',
      'event-reaction-removed',
      'event-message-file-share',
      'event-url-verification',
    ];
    let events = 0;
    const interactiveFixtures = ['block-actions-button', 'view-submission-post'];
    const request = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({
            text: commandText,
            user: fc.oneof(fc.constantFrom(ALICE, BOB, 'U0CAROL'), fc.string({ maxLength: 12 })),
            extra: mutated(fixture('slash-command') as Json, keepUrls),
          })
          .map(({ text, user, extra }) => {
            const fields = typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? extra : {};
            const form = new URLSearchParams(
              Object.entries({ ...fields, text, user_id: user, response_url: responseUrl }).map(([k, v]): [string, string] => [
                k,
                typeof v === 'string' ? v : JSON.stringify(v),
              ]),
            );
            return { kind: 'command', type: 'application/x-www-form-urlencoded', body: form.toString() };
          }),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(...eventFixtures).chain((name) =>
          mutated(fixture(name, { event_id: `EvFUZZ${(events += 1)}` }) as Json, keepUrls).map((doc) => ({
            kind: 'event',
            type: 'application/json',
            body: JSON.stringify(doc),
          })),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(...interactiveFixtures).chain((name) =>
          fc
            .oneof(
              {
                weight: 4,
                arbitrary: mutated(fixture(name, { response_url: responseUrl }) as Json, keepUrls).map((doc) => JSON.stringify(doc)),
              },
              {
                weight: 1,
                arbitrary: fc.oneof(
                  fc.constant('null'),
                  fc.jsonValue().map((v) => JSON.stringify(v)),
                  fc.string({ maxLength: 100 }),
                ),
              },
            )
            .map((payload) => ({
              kind: 'interactive',
              type: 'application/x-www-form-urlencoded',
              body: new URLSearchParams({ payload }).toString(),
            })),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('raw'),
          type: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data'),
          body: fc.string({ maxLength: 400 }),
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(`${service.url}/slack/events`, {
          method: 'POST',
          headers: {
            'content-type': r.type,
            'x-slack-request-timestamp': String(timestamp),
            'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, r.body),
          },
          body: r.body,
        });
        await response.arrayBuffer();
        return tally.record(`POST /slack/events (signed ${r.kind})`, response.status, () => JSON.stringify(r)) < 500;
      }),
      fuzzParameters(3),
    );
  });

  it('afterwards: no 5xx anywhere, both processes alive and serving, the Slack bot still answers', async () => {
    expect(tally.serverErrors, tally.summary()).toEqual([]);
    // What Node prints when an uncaught exception or unhandled rejection ends a process.
    expect(service.output()).not.toMatch(/^Node\.js v\d+|UnhandledPromiseRejection/m);
    expect(sandbox.child.exitCode).toBeNull();
    for (const base of [service.url, sandboxBase]) expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await slack.command('U0CAROL', 'help')).toMatch(/connect/);
  });
});
