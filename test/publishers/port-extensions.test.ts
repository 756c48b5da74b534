/**
 * The port's optional pieces (docs/adding-a-platform.md, "What the port offers"), each driven
 * through the running service by a platform from a test fixture: an app turned on by a switch
 * with a checked setting; a sign-in that starts with the platform's own request and comes back
 * with the platform's own state and the record it asked to keep; a public document served under
 * /oauth/<platform>/; and a platform connected one of two ways, chosen by the button's link.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { integrationSummary, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PlatformApp, PlatformModule } from '../../src/publishers/platform-module.js';
import type { Platform } from '../../src/publishers/publisher.js';
import { ConnectError } from '../../src/publishers/publisher.js';
import { PLATFORM_MODULES, type AnyPlatformModule } from '../../src/publishers/registry.js';
import { createDemoPublisher, DemoServer, demoPlatform, type DemoSettings } from '../fixtures/platforms/demo-platform.js';
import { RelayServer, relayPlatform } from '../fixtures/platforms/relay-platform.js';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/db.js';
import { invocation, MemoryChat, shownReply } from '../helpers/memory-chat.js';

/** Demo's publisher, connectable two ways: the way chosen must reach the consent URL and the callback. */
const duoModule: PlatformModule<'duo', DemoSettings> = {
  id: 'duo',
  displayName: 'Duo',
  app: { ...(demoPlatform.app as PlatformApp<DemoSettings>), key: 'duo' },
  concurrency: 1,
  createPublisher: (settings) => {
    const demo = createDemoPublisher(settings);
    return {
      ...demo,
      platform: 'duo' as Platform,
      displayName: 'Duo',
      connectVariants: [
        { id: 'page', label: 'Connect with a Page', description: 'for accounts linked to a Page.' },
        { id: 'direct', label: 'Connect directly', description: 'no Page needed.' },
      ],
      consentUrl: (request) => `${demo.consentUrl(request)}&way=${request.variant ?? 'none'}`,
      async finishConnect(request) {
        if (!request.variant) throw new ConnectError('Duo: no way of connecting came back');
        const accounts = await demo.finishConnect(request);
        // No handle: the label then shows the display name, which says the way.
        return accounts.map((a) => ({ ...a, handle: undefined, displayName: `${a.displayName} (${request.variant})` }));
      },
    };
  },
};
const MODULES = [...PLATFORM_MODULES, relayPlatform, duoModule as unknown as AnyPlatformModule];

let relay: RelayServer;
let demo: DemoServer;
let dir: string;
let database: ScratchDatabase;
let app: RunningApp;
let base: string;
const chat = new MemoryChat('slack');
const run = async (user: string, text: string) => shownReply(await app.core.commands.runText(invocation(user), text));

beforeAll(async () => {
  [relay, demo] = await Promise.all([new RelayServer().start(), new DemoServer().start()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-port-extensions-'));
  database = await scratchDatabase(dir);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = loadConfig(
    {
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
      CLEANUP_CRON: '0 0 1 1 *',
      RELAY_ENABLED: 'true',
      RELAY_API_URL: relay.url,
      RELAY_API_VERSION: '202611',
      DEMO_CLIENT_ID: 'demo-client',
      DEMO_CLIENT_SECRET: 'demo-secret',
      DEMO_API_URL: demo.url,
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
  await Promise.all([relay?.close(), demo?.close()]);
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The browser's trip from a link to the callback page: the link's redirect, the platform's consent (approving at once), the callback. */
async function connectThrough(link: string): Promise<{ consent: string; status: number; html: string; callback: string }> {
  const browser = new Browser();
  const toConsent = await browser.fetch(link, { redirect: 'manual' });
  expect(toConsent.status, await toConsent.clone().text()).toBe(302);
  const consent = toConsent.headers.get('location')!;
  const callback = (await fetch(consent, { redirect: 'manual' })).headers.get('location')!;
  const page = await browser.fetch(callback);
  return { consent, callback, status: page.status, html: await page.text() };
}

describe('an app turned on by a switch, with a checked setting', () => {
  it('is on only when the switch is true; a malformed setting stops the start naming it', () => {
    expect(loadConfig({}, dir, MODULES).platformApps.relay).toEqual({ enabled: false, missing: 'RELAY_ENABLED not true' });
    const on = loadConfig({ RELAY_ENABLED: 'true' }, dir, MODULES);
    expect(on.platformApps.relay).toEqual({ enabled: true, settings: { apiUrl: 'https://relay.invalid', apiVersion: '202607' } });
    expect(integrationSummary(on, MODULES)).toMatchObject({ relay: 'on' });
    expect(() => loadConfig({ RELAY_ENABLED: 'yes' }, dir, MODULES)).toThrow('RELAY_ENABLED: must be true or false (got "yes")');
    // Checked even while the app is off: a typo should not wait for the day it is turned on.
    expect(() => loadConfig({ RELAY_API_VERSION: '2026-07' }, dir, MODULES)).toThrow(
      'RELAY_API_VERSION: must be a version as YYYYMM, e.g. 202607 (got "2026-07")',
    );
  });
});

describe('a public document of a platform', () => {
  it('is served as JSON under /oauth/<platform>/<name>; another name, or a platform that has none, is 404', async () => {
    const answer = await fetch(`${base}/oauth/relay/client.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await answer.json()).toEqual({ client_id: `${base}/oauth/relay/client.json`, api_version: '202611' });
    expect((await fetch(`${base}/oauth/relay/other.json`)).status).toBe(404);
    expect((await fetch(`${base}/oauth/duo/client.json`)).status).toBe(404);
    expect((await fetch(`${base}/oauth/nowhere/client.json`)).status).toBe(404);
  });
});

describe('a sign-in the platform starts itself, with its own state', () => {
  it('connects: the callback is found by the platform’s state, and what it asked to keep comes back once', async () => {
    const reply = await run('U_ADA', 'connect relay');
    const links = reply.message.text.match(/http:\/\/\S+\/connect\/\S+/g) ?? [];
    expect(links, reply.message.text).toHaveLength(2);
    const south = links.find((l) => l.endsWith('?via=south'))!;
    const outcome = await connectThrough(south);
    expect(outcome.consent.startsWith(`${relay.url}/authorize?request_uri=`)).toBe(true);
    expect(new URL(outcome.callback).searchParams.get('state')).toMatch(/^relay-/);
    expect(outcome.status, outcome.html).toBe(200);
    expect(outcome.html).toContain('Relay User via south');
    expect(relay.clientIds).toEqual([`${base}/oauth/relay/client.json`]);

    // The same callback again: that sign-in is used up.
    const again = await new Browser().fetch(outcome.callback);
    expect(again.status).toBe(400);
    // The kept record is gone from the database with the round trip.
    const states = await app.services.db.selectFrom('oauth_states').select(['platform', 'code_verifier_sealed', 'used_at']).execute();
    expect(states.filter((s) => (s.platform as string) === 'relay')).toEqual([
      { platform: 'relay', code_verifier_sealed: null, used_at: expect.any(String) },
    ]);
  });

  it('a link whose other button was used first is used up', async () => {
    const reply = await run('U_BEA', 'connect relay');
    const [first, second] = reply.message.text.match(/http:\/\/\S+\/connect\/\S+/g) ?? [];
    expect((await connectThrough(first!)).status).toBe(200);
    const late = await new Browser().fetch(second!, { redirect: 'manual' });
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('This connect link was already used');
  });
});

describe('a platform connected one of two ways', () => {
  it('offers a button per way; the way picked reaches the consent URL and comes back to the callback in the state', async () => {
    const reply = await run('U_ADA', 'connect duo');
    expect(reply.message.text).toContain('Connect Duo, one of two ways:');
    expect(reply.message.text).toContain('• Connect directly: no Page needed.');
    const buttons = reply.message.buttons ?? [];
    expect(buttons.map((b) => b.label)).toEqual(['Connect with a Page', 'Connect directly']);
    const outcome = await connectThrough(buttons[1]!.value);
    expect(new URL(outcome.consent).searchParams.get('way')).toBe('direct');
    expect(new URL(outcome.callback).searchParams.get('state')).toMatch(/^direct\./);
    expect(outcome.status, outcome.html).toBe(200);
    expect(outcome.html).toContain('Demo User (direct)');

    // Without a way in the link (an old link, a hand-edited one), the first way is used.
    const plain = (await run('U_CID', 'connect duo')).message.text.match(/http:\/\/\S+\/connect\/[A-Za-z0-9_-]+/)![0];
    expect((await connectThrough(`${plain}?via=nonsense`)).html).toContain('Demo User (page)');
  });
});
