/**
 * Adding a platform is a folder and one entry in the list of modules (docs/adding-a-platform.md):
 * a small platform module from a test fixture, added to the registry's list and nothing else,
 * goes through the real service end to end — configuration, help, connect (link, consent,
 * callback), a post, its approval, publishing and the result in the chat thread.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { integrationSummary, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { PLATFORM_MODULES } from '../../src/publishers/registry.js';
import { DemoServer, demoPlatform } from '../fixtures/platforms/demo-platform.js';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/db.js';
import { invocation, MemoryChat, shownReply } from '../helpers/memory-chat.js';

const MODULES = [...PLATFORM_MODULES, demoPlatform];

let demo: DemoServer;
let dir: string;
let database: ScratchDatabase;
let app: RunningApp;
const chat = new MemoryChat('slack');

const run = async (user: string, text: string) => shownReply(await app.core.commands.runText(invocation(user), text));

beforeAll(async () => {
  demo = await new DemoServer().start();
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-extra-platform-'));
  database = await scratchDatabase(dir);
  const port = await freePort();
  const config = loadConfig(
    {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
      CLEANUP_CRON: '0 0 1 1 *',
      DEMO_CLIENT_ID: 'demo-client',
      DEMO_CLIENT_SECRET: 'demo-secret',
      DEMO_API_URL: `${demo.url}/`,
    },
    dir,
    MODULES,
  );
  app = await startApp(config, createLogger('silent'), {
    platforms: MODULES,
    surfaces: [() => ({ name: 'memory', port: chat, attachmentHosts: [] })],
    worker: { pollMs: 20, leaseMs: 3_000, backoffBaseMs: 50, backoffMaxMs: 2_000 },
  });
});

afterAll(async () => {
  await app?.stop('test over');
  await demo?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a platform added as one more module', () => {
  it('is configured from its own variables, and told apart from the others', () => {
    const config = loadConfig({ DEMO_CLIENT_ID: 'id', DEMO_CLIENT_SECRET: 's' }, dir, MODULES);
    expect(config.platformApps.demo).toEqual({
      enabled: true,
      settings: { clientId: 'id', clientSecret: 's', apiUrl: 'https://api.demo.invalid' },
    });
    expect(integrationSummary(config, MODULES)).toMatchObject({ demo: 'on', x: expect.stringMatching(/^off/) });
    expect(() => loadConfig({ DEMO_CLIENT_ID: 'id' }, dir, MODULES)).toThrow('DEMO_CLIENT_SECRET: must be set when DEMO_CLIENT_ID is set');
  });

  it('is in help, connects through its consent, posts after approval and says the result in the thread', async () => {
    const help = await run('U_ADA', 'help');
    expect(help.message.text).toContain('connect <facebook|instagram|x|tiktok|linkedin|youtube|threads|bluesky|demo>');
    expect(help.message.text).toContain('Platforms enabled here: Demo.');

    // connect: the private link, the platform's consent (approved at once), the callback.
    const reply = await run('U_ADA', 'connect demo');
    const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)?.[1];
    expect(link, reply.message.text).toBeDefined();
    const browser = new Browser();
    const toConsent = await browser.fetch(link!, { redirect: 'manual' });
    expect(toConsent.status).toBe(302);
    const consent = toConsent.headers.get('location')!;
    expect(consent.startsWith(`${demo.url}/authorize?`)).toBe(true);
    const toCallback = await fetch(consent, { redirect: 'manual' });
    const callback = toCallback.headers.get('location')!;
    expect(callback).toContain('/oauth/demo/callback?');
    const page = await browser.fetch(callback);
    expect(page.status, await page.clone().text()).toBe(200);
    expect((await run('U_ADA', 'accounts')).message.text).toContain('demo_user');

    // post, approval, publishing, the result in the thread.
    const asked = await run('U_ADA', 'post demo Hello from a platform added in one line');
    const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(asked.message.text)?.[1];
    expect(postId, asked.message.text).toBeDefined();
    const approval = chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
    await app.core.posts.decide({
      chat: 'slack',
      workspaceExternalId: 'T1',
      messageId: approval.id,
      userExternalId: 'U_BOB',
      isBot: false,
      decision: 'approve',
      via: 'reaction',
    });
    await chat.waitFor(() => chat.thread(approval.id).some((line) => line.startsWith(`Post ${postId}: published`)));
    expect(demo.posts).toEqual([{ id: 'dp1', text: 'Hello from a platform added in one line', token: 'Bearer demo-token' }]);
    expect(chat.thread(approval.id).join('\n')).toContain(`${demo.url}/p/dp1`);
  });
});
