/**
 * The whole service as `serve` runs it — real Koa server, real core, real publishers, durable
 * worker — with an in-memory chat and the platform simulators on loopback. Tests drive it
 * through the chat grammar and plain HTTP, as a chat surface and a browser would.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, type Dirent } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startApp, type AppOptions, type RunningApp } from '../../src/app.js';
import type { Invocation } from '../../src/core/ports/chat.js';
import { loadConfig } from '../../src/config.js';
import type { Platform } from '../../src/core/ports/platforms.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulators, type ConsentChoice, type Simulators, type SimulatorsOptions } from '../../src/simulators/index.js';
import { Browser } from './browser.js';
import { freePort } from './cli.js';
import { scratchDatabase } from './db.js';
import type { ShownReply } from './memory-chat.js';
import { invocation, MemoryChat, shownReply } from './memory-chat.js';

export interface Harness {
  app: RunningApp;
  /** The DATABASE_URL the app runs on (SQLite in `dir`, or a PostgreSQL database of its own). */
  databaseUrl: string;
  sims: Simulators;
  chat: MemoryChat;
  base: string;
  dir: string;
  /** Serves test files to the media intake, as a chat platform's file host would. */
  files: { url(name: string, body: Buffer): string };
  /** Runs a command as `user`. */
  run(user: string, text: string, extra?: Partial<Invocation>, attachments?: Array<{ name: string; body: Buffer }>): Promise<ShownReply>;
  /** connect <platform> → link → consent (approved in the simulator) → callback; returns the callback page. */
  connect(platform: Platform, user?: string, choice?: ConsentChoice): Promise<{ status: number; html: string }>;
  /** ✅ on post `postId`'s approval message by `user` (default U_BOB), as a Slack reaction; returns that message's id. */
  approve(postId: string, user?: string): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  sims?: SimulatorsOptions;
  app?: AppOptions;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sims = await startSimulators(options.sims);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-e2e-'));
  const hosted = new Map<string, Buffer>();
  const fileServer: Server = createServer((req, res) => {
    const body = hosted.get(req.url ?? '');
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => fileServer.listen(0, '127.0.0.1', r));
  const fileHost = `127.0.0.1:${(fileServer.address() as AddressInfo).port}`;

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const database = await scratchDatabase(dir);
  const config = loadConfig(
    {
      ...sims.env,
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
      // No cleanup run may surprise a test (the default fires every ten minutes): tests run it themselves.
      CLEANUP_CRON: '0 0 1 1 *',
      ...options.env,
    },
    dir,
  );
  const chat = new MemoryChat('slack');
  const app = await startApp(config, createLogger(process.env.IQSP_TEST_LOG === '1' ? 'debug' : 'silent'), {
    surfaces: [() => ({ name: 'memory', port: chat, attachmentHosts: [fileHost] })],
    publisherTuning: { pollIntervalMs: 5, maxWaitMs: 10_000 },
    worker: { pollMs: 20, leaseMs: 3_000, backoffBaseMs: 50, backoffMaxMs: 2_000 },
    // Tests script commands by the hundred, faster than people type: the per-user limit is lifted here
    // (test/core/command-rate-limit.test.ts runs the default).
    commandRateLimit: { limit: 1_000_000, windowMs: 60_000 },
    ...options.app,
  });

  let fileCounter = 0;
  const files = {
    url(name: string, body: Buffer): string {
      const key = `/${++fileCounter}/${encodeURIComponent(name)}`;
      hosted.set(key, body);
      return `http://${fileHost}${key}`;
    },
  };

  const run: Harness['run'] = async (user, text, extra = {}, attachments = []) =>
    shownReply(
      await app.core.commands.runText(
        invocation(user, extra),
        text,
        attachments.map((a) => ({ url: files.url(a.name, a.body), originalName: a.name })),
      ),
    );

  const connect: Harness['connect'] = async (platform, user = 'U_ADA', choice) => {
    const reply = await run(user, `connect ${platform}`);
    const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)?.[1];
    if (!link) throw new Error(`no connect link in: ${reply.message.text}`);
    // One browser from the link to the callback: the sign-in is bound to it by a cookie.
    const browser = new Browser();
    const redirect = await browser.fetch(link, { redirect: 'manual' });
    if (redirect.status !== 302) throw new Error(`connect link answered ${redirect.status}: ${await redirect.text()}`);
    const callback = await sims.followConsent(redirect.headers.get('location')!, choice);
    const page = await browser.fetch(callback);
    return { status: page.status, html: await page.text() };
  };

  return {
    app,
    databaseUrl: database.url,
    sims,
    chat,
    base,
    dir,
    files,
    run,
    connect,
    async approve(postId, user = 'U_BOB') {
      const approval = chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
      if (!approval) throw new Error(`no approval message for post ${postId}`);
      await app.core.posts.decide({
        chat: 'slack',
        workspaceExternalId: 'T1',
        messageId: approval.id,
        userExternalId: user,
        isBot: false,
        decision: 'approve',
        via: 'reaction',
      });
      return approval.id;
    },
    async close() {
      await app.stop('test over');
      await sims.close();
      await new Promise<void>((r) => fileServer.close(() => r()));
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every byte of the files under `dir` (SQLite's files, the media folder), as latin1 text, to search for strings. */
export function rawStorageText(dir: string): string {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSafe(folder)) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(readFileSync(full).toString('latin1'));
    }
  };
  walk(dir);
  return out.join('\n');
}

function readdirSafe(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}
