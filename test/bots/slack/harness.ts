/**
 * The Slack surface under test: the real Koa server from startApp with the real Bolt app,
 * talking to the fake Slack (src/simulators/slack.ts). Publishing goes to small in-test
 * publishers with real rules (X counts 280 characters; TikTok needs a privacy level and media).
 */
import { measureXText } from '../../../src/publishers/x/limits.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { startApp, type RunningApp } from '../../../src/app.js';
import { isSlackSurface, slackSurfaceFactory, type SlackSurface, type SlackSurfaceOptions } from '../../../src/bots/slack/index.js';
import { loadConfig } from '../../../src/config.js';
import { isoNow } from '../../../src/db/database.js';
import type { SocialAccount } from '../../../src/db/schema.js';
import type { Platform } from '../../../src/core/ports/platforms.js';
import { ensureUser, ensureWorkspace } from '../../../src/core/directory.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { Publisher, PublishRequest, ValidationProblem } from '../../../src/publishers/publisher.js';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import type { Publishers } from '../../../src/publishers/registry.js';
import { generateKey } from '../../../src/vault/vault.js';
import { freePort } from '../../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../../helpers/db.js';
import {
  commandRequest,
  eventRequest,
  FakeSlack,
  interactiveRequest,
  sendToApp,
  type SendOptions,
  type SlackCall,
} from '../../simulators/slack.js';

export const SIGNING_SECRET = 'e3b0c44298fc1c149afbf4c8996fb924';

export interface Published {
  platform: Platform;
  caption: string;
  mediaCount: number;
  options: Readonly<Record<string, string>>;
}

/** A publisher with one real rule per platform, publishing into a list. */
function testPublisher(
  platform: Platform,
  displayName: string,
  validate: (draft: PublishRequest['draft']) => ValidationProblem[],
  published: Published[],
): Publisher {
  return {
    platform,
    displayName,
    usesPkce: false,
    requiresTargetOption: platform === 'tiktok',
    canRefresh: false,
    // These tests do not run the health check: every account is in good health.
    checkAuthorization: () => Promise.resolve({ kind: 'ok' as const }),
    measureText: (text) => (platform === 'x' ? measureXText(text) : [{ used: text.length, limit: 2_200, unit: 'characters' }]),
    consentUrl: ({ state, redirectUri }) =>
      `https://consent.example/${platform}?state=${encodeURIComponent(state)}&redirect_uri=${encodeURIComponent(redirectUri)}`,
    finishConnect: async () => {
      throw new ConnectError('connecting is not part of the Slack tests');
    },
    refresh: async () => {
      throw new TokenRefreshError('these test tokens do not expire', true);
    },
    revoke: async () => undefined,
    validate,
    // What creator_info says @acmetok may use: everything but followers-only.
    ...(platform === 'tiktok' ? { targetOptionChoices: async () => ['public', 'friends', 'private'] } : {}),
    publish: async (request) => {
      const total = request.draft.media.reduce((sum, m) => sum + m.sizeBytes, 0);
      if (total > 0) {
        request.onProgress?.({ phase: 'uploading', bytesSent: Math.floor(total / 2), bytesTotal: total });
        request.onProgress?.({ phase: 'uploading', bytesSent: total, bytesTotal: total });
      }
      await request.beforeCommit();
      published.push({ platform, caption: request.draft.caption, mediaCount: request.draft.media.length, options: request.draft.options });
      const id = String(1_800_000_000 + published.length);
      return {
        kind: 'published',
        platformPostId: id,
        permalink: platform === 'x' ? `https://x.com/acme/status/${id}` : `https://www.tiktok.com/@acmetok/video/${id}`,
      };
    },
  };
}

export function testPublishers(published: Published[]): Publishers {
  const xRule = (draft: PublishRequest['draft']): ValidationProblem[] => {
    const length = [...draft.caption].length;
    return length > 280 ? [{ code: 'caption_too_long', message: `X allows 280 characters; this caption counts ${length}` }] : [];
  };
  const tiktokRule = (draft: PublishRequest['draft']): ValidationProblem[] => {
    const problems: ValidationProblem[] = [];
    if (!draft.options.privacy)
      problems.push({
        code: 'privacy',
        message: 'TikTok needs a privacy level: tiktok:public, tiktok:friends, tiktok:followers or tiktok:private',
      });
    if (draft.media.length === 0) problems.push({ code: 'media_count', message: 'TikTok needs a photo or a video' });
    return problems;
  };
  return new Map<Platform, Publisher>([
    ['x', testPublisher('x', 'X', xRule, published)],
    ['tiktok', testPublisher('tiktok', 'TikTok', tiktokRule, published)],
  ]);
}

export interface HarnessOptions {
  /** Extra or replaced environment; an empty value removes a variable. */
  env?: Record<string, string>;
  /** Runs on the fake before the app starts (Socket Mode needs its app token then). */
  prepare?: (fake: FakeSlack) => void;
  surface?: SlackSurfaceOptions;
  /** The clock the app reads (scheduling tests move it instead of waiting). */
  now?: () => Date;
}

export class SlackHarness {
  readonly logs: string[] = [];
  readonly published: Published[] = [];
  running!: RunningApp;
  surface!: SlackSurface;
  url = '';
  dir = '';
  database: ScratchDatabase | undefined;

  private constructor(readonly fake: FakeSlack) {}

  static async start(options: HarnessOptions = {}): Promise<SlackHarness> {
    const harness = new SlackHarness(await FakeSlack.start());
    options.prepare?.(harness.fake);
    await harness.boot(options);
    return harness;
  }

  private async boot(options: HarnessOptions): Promise<void> {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-slack-'));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.database = await scratchDatabase(this.dir);
    const env = {
      PORT: String(port),
      PUBLIC_URL: this.url,
      DATABASE_URL: this.database.url,
      MEDIA_DIR: path.join(this.dir, 'media'),
      VAULT_KEY: generateKey(),
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: this.fake.workspace.botToken,
      SLACK_API_URL: this.fake.apiUrl,
      // No cleanup run may surprise a test (the default fires every ten minutes).
      CLEANUP_CRON: '0 0 1 1 *',
      ...options.env,
    };
    this.env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
    this.options = options;
    const { running, surface } = await this.startInstance(this.env);
    this.running = running;
    this.surface = surface;
  }

  private env: Record<string, string> = {};
  private options: HarnessOptions = {};

  private async startInstance(env: Record<string, string>): Promise<{ running: RunningApp; surface: SlackSurface }> {
    const config = loadConfig(env, this.dir);
    const sink = new Writable({ write: (chunk, _encoding, done) => (this.logs.push(String(chunk)), done()) });
    const running = await startApp(config, createLogger('debug', sink), {
      surfaces: [slackSurfaceFactory({ retries: 0, drainMs: 5_000, ...this.options.surface })],
      publishers: testPublishers(this.published),
      worker: { pollMs: 20, backoffBaseMs: 10 },
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    const surface = running.surfaces.find(isSlackSurface);
    if (!surface) throw new Error('the Slack surface did not start');
    return { running, surface };
  }

  /**
   * Another instance of the app on the same database, key and fake Slack, on a port of its own:
   * what a second process behind the load balancer is. The caller stops it.
   */
  async anotherInstance(): Promise<{
    url: string;
    running: RunningApp;
    surface: SlackSurface;
    send: (request: Parameters<typeof sendToApp>[2], options?: SendOptions) => Promise<Response>;
  }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { running, surface } = await this.startInstance({ ...this.env, PORT: String(port) });
    return { url, running, surface, send: (request, options) => sendToApp(url, SIGNING_SECRET, request, options) };
  }

  get db() {
    return this.running.services.db;
  }

  get core() {
    return this.running.core;
  }

  send(request: Parameters<typeof sendToApp>[2], options?: SendOptions): Promise<Response> {
    return sendToApp(this.url, SIGNING_SECRET, request, options);
  }

  /** `/iqsp <text>` from `user` (default Alice) in #general; resolves once the app has answered it. */
  async command(text: string, overrides: Record<string, unknown> = {}): Promise<{ response: Response; responseUrl: string }> {
    const responseUrl = this.fake.responseUrl();
    const response = await this.send(commandRequest('slash-command', { text, response_url: responseUrl, ...overrides }));
    await this.surface.settled();
    return { response, responseUrl };
  }

  /** The text of the reply posted to a command's response_url. */
  async replyTo(responseUrl: string): Promise<{ text: string; responseType: string; blocks: Array<Record<string, unknown>> }> {
    const id = responseUrl.split('/').pop();
    const post = await this.fake.waitForResponse((p) => p.id === id);
    return {
      text: String(post.body.text),
      responseType: String(post.body.response_type),
      blocks: (post.body.blocks as Array<Record<string, unknown>>) ?? [],
    };
  }

  async event(name: string, overrides: Record<string, unknown> = {}, options?: SendOptions): Promise<Response> {
    const response = await this.send(eventRequest(name, overrides), options);
    await this.surface.settled();
    return response;
  }

  async interactive(name: string, overrides: Record<string, unknown> = {}): Promise<Response> {
    const response = await this.send(interactiveRequest(name, overrides));
    await this.surface.settled();
    return response;
  }

  /** Connected accounts in T0001, connected by Carol: X @acme and TikTok @acmetok, with (fake) tokens. */
  async seedAccounts(): Promise<{ x: SocialAccount; tiktok: SocialAccount }> {
    const workspaceId = await ensureWorkspace(this.db, 'slack', 'T0001', 'Acme');
    const carol = await ensureUser(this.db, workspaceId, 'U0CAROL', 'carol');
    const now = isoNow();
    const insert = async (platform: Platform, platformAccountId: string, handle: string): Promise<SocialAccount> => {
      const row: SocialAccount = {
        id: `acct-${platform}`,
        workspace_id: workspaceId,
        connected_by_id: carol,
        platform,
        platform_account_id: platformAccountId,
        platform_user_id: null,
        handle,
        display_name: handle,
        avatar_url: null,
        scopes: null,
        status: 'active',
        status_reason: null,
        health_warned_at: null,
        authorization_lapses_at: null,
        connected_at: now,
        updated_at: now,
      };
      await this.db.insertInto('social_accounts').values(row).execute();
      await this.core.tokens.save(row.id, { accessToken: `${platform}-access-token-not-real` });
      return row;
    };
    return { x: await insert('x', '1500000001', 'acme'), tiktok: await insert('tiktok', 'tt-open-id-1', 'acmetok') };
  }

  /**
   * Alice submits the post modal with `caption`, to X @acme, no media; answers with the
   * modal's response and the approval message the bot then posted in #general.
   */
  async submitTextPost(caption: string): Promise<{ response: Response; approval: SlackCall; postId: string }> {
    const before = this.calls('chat.postMessage').length;
    const response = await this.interactive('view-submission-post', {
      view: {
        state: {
          values: {
            caption: { caption: { type: 'plain_text_input', value: caption } },
            targets: {
              targets: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'acct-x' }, value: 'acct-x' }] },
            },
            media: { media: { type: 'file_input', files: [] } },
          },
        },
      },
    });
    const approval = await until(
      () =>
        this.calls('chat.postMessage')
          .slice(before)
          .find((c) => c.args.channel === 'C0GENERAL' && !c.args.thread_ts && c.args.blocks),
      'the approval message',
    );
    return { response, approval, postId: /Post (\w{7})/.exec(String(approval.args.text))![1]! };
  }

  private deliveries = 0;

  /** `user` opens the app's Home tab (`app_home_opened`, tab `home`); resolves once the app has answered it. */
  openHome(user = 'U0ALICE', tab: 'home' | 'messages' = 'home'): Promise<Response> {
    this.deliveries += 1;
    return this.event('event-app-home-opened', {
      event_id: `Ev0HOME${this.deliveries}${user}`,
      event: { user, tab, channel: `D${user.slice(1)}`, event_ts: `${1_700_000_300 + this.deliveries}.000100` },
    });
  }

  /** The Home tab `user` sees now: the last view published for them, or undefined. */
  homeOf(user = 'U0ALICE'): { type: string; blocks: Array<Record<string, unknown>> } | undefined {
    return this.fake.homeViews.get(`T0001/${user}`) as { type: string; blocks: Array<Record<string, unknown>> } | undefined;
  }

  /** The ts of post `postId`'s approval message in #general. */
  approvalTs(postId: string): string {
    const message = [...this.fake.messages.values()].find(
      (m) => m.channel === 'C0GENERAL' && !m.threadTs && m.text.startsWith(`Post ${postId} `),
    );
    if (!message) throw new Error(`no approval message for post ${postId}`);
    return message.ts;
  }

  /** `user` puts ✅ (or another reaction) on the message `ts` in #general. */
  react(user: string, ts: string, reaction = 'white_check_mark'): Promise<Response> {
    this.deliveries += 1;
    const eventTs = `${1_700_000_500 + this.deliveries}.000100`;
    return this.event('event-reaction-added', {
      event_id: `Ev0RH${this.deliveries}`,
      event: { user, reaction, item: { type: 'message', channel: 'C0GENERAL', ts }, event_ts: eventTs },
    });
  }

  /** Slack API calls made so far to `method`, newest last. */
  calls(method: string): SlackCall[] {
    return this.fake.callsTo(method);
  }

  async close(): Promise<void> {
    await this.running.stop('test over');
    await this.fake.close();
    await this.database?.drop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function json<T = Record<string, unknown>>(value: string | undefined): T {
  return JSON.parse(value ?? 'null') as T;
}

/** A small PNG, as a phone would upload it. */
export function png(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
}

export async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}
