/**
 * The whole app (startApp, the real Koa server, the real discord.js client of the Discord
 * surface) against the fake Discord on 127.0.0.1, with a small honest X publisher so posts
 * can be validated and published without a network.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import type { RunningApp } from '../../../src/app.js';
import { startApp } from '../../../src/app.js';
import { createDiscordSurface } from '../../../src/bots/discord/index.js';
import { loadConfig } from '../../../src/config.js';
import { ensureUser, ensureWorkspace } from '../../../src/core/directory.js';
import { isoNow } from '../../../src/db/database.js';
import { createLogger } from '../../../src/observability/logger.js';
import type {
  AccountRef,
  ConsentRequest,
  PostDraft,
  PublishRequest,
  PublishResult,
  Publisher,
  TokenSet,
  TextMeasure,
  AuthorizationCheck,
  ValidationProblem,
} from '../../../src/publishers/publisher.js';
import { measureXText } from '../../../src/publishers/x/limits.js';
import { ConnectError, TokenRefreshError } from '../../../src/publishers/publisher.js';
import { freePort } from '../../helpers/cli.js';
import { scratchDatabase } from '../../helpers/db.js';
import { startDiscordSimulator, type DiscordSimulator } from '../../simulators/discord/index.js';

export const X_CAPTION_LIMIT = 280;

/**
 * X as far as these tests need it: X's caption rule and media count, a publish that reads
 * every byte of the media (reporting upload progress) and answers with the post's link.
 */
export class TestXPublisher implements Publisher {
  readonly platform = 'x' as const;
  readonly displayName = 'X';
  readonly usesPkce = true;
  readonly canRefresh = false;
  readonly published: Array<{ caption: string; bytes: number; accessToken: string }> = [];
  readonly revoked: string[] = [];
  /** Set by `hold`: the next publish waits here, its target `publishing`, until released. */
  private held: { started: () => void; released: Promise<void> } | undefined;

  /** Holds the next publish once it has started (the target is `publishing`) until `release` is called. */
  hold(): { started: Promise<void>; release: () => void } {
    let started!: () => void;
    let release!: () => void;
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    this.held = { started, released: new Promise<void>((resolve) => (release = resolve)) };
    return { started: startedPromise, release };
  }

  consentUrl(request: ConsentRequest): string {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'test-client',
      redirect_uri: request.redirectUri,
      state: request.state,
      code_challenge: request.codeChallenge ?? '',
      code_challenge_method: 'S256',
    });
    return `https://x.com/i/oauth2/authorize?${query}`;
  }

  async finishConnect(): Promise<never> {
    throw new ConnectError('These tests connect accounts by seeding them.');
  }

  async refresh(): Promise<TokenSet> {
    throw new TokenRefreshError('This X account has no refresh token; connect it again.', true);
  }

  async revoke(account: AccountRef): Promise<void> {
    this.revoked.push(account.platformAccountId);
  }

  /** These tests do not run the health check: the account is in good health. */
  checkAuthorization(): Promise<AuthorizationCheck> {
    return Promise.resolve({ kind: 'ok' });
  }

  measureText(text: string): TextMeasure[] {
    return measureXText(text);
  }

  validate(draft: PostDraft): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const length = [...draft.caption].length;
    if (length > X_CAPTION_LIMIT)
      problems.push({ code: 'caption_too_long', message: `X allows ${X_CAPTION_LIMIT} characters; this caption counts ${length}` });
    if (draft.media.length > 4)
      problems.push({ code: 'media_count', message: `X takes at most 4 images; this post has ${draft.media.length}` });
    return problems;
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.started();
      await held.released;
    }
    const total = request.draft.media.reduce((sum, m) => sum + m.sizeBytes, 0);
    let sent = 0;
    for (const media of request.draft.media) {
      for await (const chunk of await request.media.stream(media)) {
        sent += (chunk as Buffer).length;
        request.onProgress?.({ phase: 'uploading', bytesSent: sent, bytesTotal: total });
      }
    }
    await request.beforeCommit();
    const id = String(1_800_000_000_000_000_000n + BigInt(this.published.length + 1));
    this.published.push({ caption: request.draft.caption, bytes: sent, accessToken: request.tokens.accessToken });
    return { kind: 'published', platformPostId: id, permalink: `https://x.com/${request.account.handle ?? 'i'}/status/${id}` };
  }
}

export interface Harness {
  discord: DiscordSimulator;
  app: RunningApp;
  x: TestXPublisher;
  logs: string[];
  dir: string;
  close(): Promise<void>;
  /** Stops the app and starts it again on the same database: the new discord.js client has an empty cache. */
  restart(): Promise<void>;
  /** Connects @acme on X in the fake server's workspace, as `connectedBy` (a user id). */
  connectX(connectedBy: string, handle?: string): Promise<string>;
}

export interface HarnessOptions {
  approvalsRequired?: number;
  /** The app's clock (scheduling tests move it instead of waiting); the real one without it. */
  now?: () => Date;
  /** DEFAULT_TIMEZONE (default UTC). */
  defaultTimezone?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-discord-'));
  const discord = await startDiscordSimulator();
  const port = await freePort();
  const database = await scratchDatabase(dir);
  const config = loadConfig(
    {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.world.applicationId,
      DISCORD_API_URL: discord.apiUrl,
      APPROVALS_REQUIRED: String(options.approvalsRequired ?? 1),
      ...(options.defaultTimezone ? { DEFAULT_TIMEZONE: options.defaultTimezone } : {}),
      LOG_LEVEL: 'debug',
      // No cleanup run may surprise a test (the default fires every ten minutes).
      CLEANUP_CRON: '0 0 1 1 *',
    },
    dir,
  );
  const logs: string[] = [];
  const logger = createLogger('debug', new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }));
  const x = new TestXPublisher();
  const start = () =>
    startApp(config, logger, {
      surfaces: [createDiscordSurface],
      publishers: new Map([['x', x]]),
      worker: { pollMs: 20, backoffBaseMs: 10 },
      ...(options.now ? { now: options.now } : {}),
    });
  let app = await start();
  return {
    discord,
    get app() {
      return app;
    },
    x,
    logs,
    dir,
    async connectX(connectedBy, handle = 'acme') {
      const db = app.services.db;
      const workspaceId = await ensureWorkspace(db, 'discord', discord.world.guildId, discord.world.guildName);
      const userId = await ensureUser(db, workspaceId, connectedBy);
      const accountId = `acct-${handle}`;
      const now = isoNow();
      await db
        .insertInto('social_accounts')
        .values({
          id: accountId,
          workspace_id: workspaceId,
          connected_by_id: userId,
          platform: 'x',
          platform_account_id: `x-${handle}`,
          platform_user_id: `x-${handle}`,
          handle,
          display_name: handle,
          avatar_url: null,
          scopes: 'tweet.write users.read offline.access',
          status: 'active',
          status_reason: null,
          connected_at: now,
          updated_at: now,
        })
        .execute();
      await app.core.tokens.save(accountId, { accessToken: `x-access-${handle}`, scopes: 'tweet.write users.read' });
      return accountId;
    },
    async restart() {
      await app.stop('restart');
      app = await start();
    },
    async close() {
      await app.stop('test over');
      await discord.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A real PNG (sharp), as a person would attach; noise keeps it from compressing (300×300 is about 270 kB). */
export async function pngBytes(width = 64, height = 48): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .png()
    .toBuffer();
}
